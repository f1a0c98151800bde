"""/stats (统计): the figures of a period on demand — problem reports, and for a community the
questions to its grid workers — for administrators (their community) and grid workers (their grid): "/stats" this month so far, "/stats 2026-10" a month,
"/stats 2026-10-01 2026-10-31" some days."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.categories import DEFAULT_CATEGORIES_FILE
from bot.conversations.feature import Command, Feature, Where
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import Response
from bot.services import report_figures
from bot.services.errors import DomainError
from bot.services.figures_message import categories_in, figures_replies, question_figures, questions_reply
from storage.models import Role


async def stats(turn: Turn, args: str = "") -> Response:
    today = datetime.now(ZoneInfo(turn.timezone)).date()
    try:
        period = report_figures.parse_period(args, today)
        counted = await report_figures.places_for(turn.session, turn.actor)
    except DomainError as error:
        return Response.refusal(error.text())
    categories = turn.routing.categories if turn.routing is not None else categories_in(DEFAULT_CATEGORIES_FILE)
    response = Response()
    for place in counted:
        found = await report_figures.figures(turn.session, place, period, turn.timezone)
        response.replies += await figures_replies(found, categories, turn.locale)
        asked = await question_figures(turn.session, place, period, turn.timezone)
        if asked is not None:
            response.replies.append(questions_reply(asked, place, period))
    return response


FEATURE = Feature(
    name="stats",
    commands=(
        Command(
            # Private: the figures name grid workers with their ratings, not for a building's group.
            "stats", ("统计", "stats"), N_("Figures of a month, reports and questions: /stats 2026-10"), stats, Where.private,
            roles=frozenset({Role.admin, Role.grid_worker}),
        ),
    ),
)

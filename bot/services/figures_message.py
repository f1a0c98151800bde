"""The figures as people read them — reports: a chart and a few lines per place; questions to
grid workers: self-service, answers, waiting times and ratings per grid worker — and the
monthly sweep that sends last month's to every community's administrators.

Category names come from the categories file, per language, so the figures are rendered for
one language at a time (the chart's labels are drawn, not translated later): the monthly
sweep renders once per language its readers use.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.categories import Category, load_categories
from bot.charts import bar_chart
from bot.config import Settings
from bot.delivery import outbox
from bot.replies import Attachment, L, Lines, Lplural, Msg, Reply, Text, render_text
from bot.services import questions
from bot.services.questions import QuestionFigures
from bot.services.report_figures import Figures, Period, PlaceFigures, figures, previous_month, rate_text
from storage.models import JobRun, Person, Place, PlaceKind, Role, RoleGrant

MONTHLY_JOB = "report-figures"
# The figures go out on the first days of a month; a bot that was down on the 1st sends them
# when it is back, but one started for the first time late in a month does not send stale ones.
MONTHLY_SEND_DAYS = 3


@cache
def categories_in(path: Path) -> dict[str, Category]:
    return load_categories(path)


def _line(name: Text, row: Figures) -> Msg:
    return Lplural(
        "{name}: {n} report, responded in time {response}, resolved {resolution}, satisfied {satisfaction} ({rated} rated)",
        "{name}: {n} reports, responded in time {response}, resolved {resolution}, satisfied {satisfaction} ({rated} rated)",
        row.reports,
        name=name,
        response=rate_text(row.response_rate),
        resolution=rate_text(row.resolution_rate),
        satisfaction=rate_text(row.satisfaction_rate),
        rated=row.rated,
    )


async def figures_replies(found: PlaceFigures, categories: Mapping[str, Category], locale: str) -> list[Reply]:
    """A chart of the rates per category (when there were reports), then the figures in words."""
    def category_name(code: str) -> str:
        category = categories.get(code)
        return category.name(locale) if category else code

    title = L("Problem reports in {place}, {period}", place=found.place.name, period=str(found.period))
    if not found.total.reports:
        return [Reply(L("No reports were made in this period."), title=title)]
    lines: list[Text] = [_line(L("In all"), found.total)]
    if found.total.rejected:
        lines.append(Lplural("({n} rejected, not counted in the response and resolution rates)",
                             "({n} rejected, not counted in the response and resolution rates)", found.total.rejected))
    lines.append(L("By category:"))
    lines += [_line(category_name(row.key), row) for row in found.by_category]
    lines.append(L("By grid:"))
    lines += [_line(row.key or L("no grid worker yet"), row) for row in found.by_grid]
    rows = found.by_category
    chart = await bar_chart(
        render_text(title, locale),
        [category_name(row.key) for row in rows],
        {
            render_text(L("responded in time"), locale): [float(row.response_rate or 0) for row in rows],
            render_text(L("resolved"), locale): [float(row.resolution_rate or 0) for row in rows],
            render_text(L("satisfied"), locale): [float(row.satisfaction_rate or 0) for row in rows],
        },
        percent=True,
    )
    return [
        # Telegram's photo captions are short: the chart carries the title, the words follow.
        Reply(title, attachment=Attachment("photo", content=chart, filename="report-figures.png")),
        Reply(Lines(lines), title=title),
    ]


def questions_reply(found: QuestionFigures, place: Place, period: Period) -> Reply:
    """Questions asked in the period: how many, how many the FAQ answered, and per grid worker
    the answers, the mean wait for the first one, and the ratings."""
    lines: list[Text] = [
        L("{asked} asked, {self_served} answered by the FAQ, {answered} answered by a person.",
          asked=found.asked, self_served=found.self_served, answered=found.answered)
    ]
    for worker in found.per_worker:
        rating = f"{worker.mean_rating:.1f}" if worker.mean_rating is not None else "—"
        lines.append(
            L("{name}: {answered} answered, first answer after {hours} hours on average, rating {rating} ({ratings} ratings)",
              name=worker.name, answered=worker.answered, hours=f"{worker.mean_wait_hours:.1f}", rating=rating, ratings=worker.ratings)
        )
    return Reply(Lines(lines), title=L("Questions to grid workers in {place}, {period}", place=place.name, period=str(period)))


async def question_figures(session: AsyncSession, place: Place, period: Period, timezone: str) -> QuestionFigures | None:
    """The question figures of a community (questions are counted per community); None for a
    smaller place."""
    if place.kind is not PlaceKind.community:
        return None
    start, end = period.bounds(timezone)
    return await questions.figures(session, start, end, place.id)


async def send_monthly_figures(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """On the first days of a month, last month's figures to the administrators of each
    community that had reports, once (the run is claimed in job_runs in this transaction).
    Returns how many communities were sent figures."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    if today.day > MONTHLY_SEND_DAYS:
        return 0
    period = previous_month(today)
    run_key = period.first.strftime("%Y-%m")
    if await session.get(JobRun, (MONTHLY_JOB, run_key)) is not None:
        return 0
    session.add(JobRun(job=MONTHLY_JOB, run_key=run_key))
    admins = await session.execute(
        select(Place, Person)
        .join(RoleGrant, RoleGrant.place_id == Place.id)
        .join(Person, Person.id == RoleGrant.person_id)
        .where(Place.kind == PlaceKind.community, RoleGrant.role == Role.admin)
        .order_by(Place.id, Person.id)
    )
    readers: dict[Place, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for place, person in admins:
        readers[place][person.reading_locale(settings.default_locale)].append(person.id)
    categories = categories_in(settings.categories_file)
    sent = 0
    for place, by_locale in readers.items():
        found = await figures(session, place, period, settings.timezone)
        asked = await question_figures(session, place, period, settings.timezone)
        if not found.total.reports and not (asked and asked.asked):
            continue  # nothing to report: /stats still shows the empty month on demand
        sent += 1
        for locale, person_ids in by_locale.items():
            replies = await figures_replies(found, categories, locale) if found.total.reports else []
            replies += [questions_reply(asked, place, period)] if asked and asked.asked else []
            for reply in replies:
                await outbox.enqueue_to_people(session, person_ids, reply, source=f"report-figures:{run_key}:{place.id}")
    return sent

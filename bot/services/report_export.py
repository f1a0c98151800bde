"""Reports with their history, as rows for a table file (`gongjian export reports`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.i18n import N_
from bot.replies import render_text
from bot.services import places
from bot.services.report_figures import Period
from bot.services.reports import action_name, local_time, status_name
from bot.table_files import Cell
from storage.models import Person, Place, Report, ReportEvent, ReportSupporter

HEADERS = (
    N_("report"), N_("made"), N_("category"), N_("status"), N_("community"), N_("compound"), N_("building"),
    N_("handler"), N_("deadline"), N_("accepted"), N_("resolved"), N_("closed"), N_("rating"), N_("+1s"), N_("text"), N_("history"),
)
EVENT_BATCH = 1000  # reports whose history is read in one query


async def report_rows(session: AsyncSession, period: Period, timezone: str, locale: str, within: Place | None = None) -> list[Sequence[Cell]]:
    """One row per report made in the period (within a place, if given), oldest first; the
    history is one cell, an event a line: "2026-11-02 09:15 accepted (王网格): note"."""
    start, end = period.bounds(timezone)
    community, compound, building = (aliased(Place) for _ in range(3))
    handler = aliased(Person)
    supporters = select(func.count()).where(ReportSupporter.report_id == Report.id).scalar_subquery()
    query = (
        select(Report, community.name, compound.name, building.name, handler.display_name, supporters)
        .outerjoin(community, community.id == Report.community_id)
        .outerjoin(compound, compound.id == Report.compound_id)
        .outerjoin(building, building.id == Report.building_id)
        .outerjoin(handler, handler.id == Report.handler_id)
        .where(Report.created_at >= start, Report.created_at < end)
        .order_by(Report.id)
    )
    if within is not None:
        query = query.where(Report.building_id.in_(select(Place.id).where(places.within(within, Place))) | (Report.building_id == within.id))
    found = (await session.execute(query)).all()
    histories = await _histories(session, [row[0].id for row in found], timezone, locale)

    def when(moment: datetime | None) -> str:
        return local_time(moment, timezone) if moment else ""

    return [
        (
            report.id, when(report.created_at), report.category, render_text(status_name(report.status), locale),
            community_name or "", compound_name or "", building_name or "", handler_name or "",
            when(report.deadline), when(report.accepted_at), when(report.resolved_at), when(report.closed_at),
            report.rating, supporter_count, report.text, "\n".join(histories.get(report.id, ())),
        )
        for report, community_name, compound_name, building_name, handler_name, supporter_count in found
    ]


async def _histories(session: AsyncSession, report_ids: list[int], timezone: str, locale: str) -> dict[int, list[str]]:
    lines: dict[int, list[str]] = defaultdict(list)
    for first in range(0, len(report_ids), EVENT_BATCH):
        batch = report_ids[first : first + EVENT_BATCH]
        events = await session.execute(
            select(ReportEvent, Person.display_name)
            .outerjoin(Person, Person.id == ReportEvent.actor_id)
            .where(ReportEvent.report_id.in_(batch))
            .order_by(ReportEvent.report_id, ReportEvent.id)
        )
        for event, actor in events:
            line = f"{local_time(event.created_at, timezone)} {render_text(action_name(event.action), locale)}"
            if actor:
                line += f" ({actor})"
            if event.note:
                line += f": {event.note}"
            lines[event.report_id].append(line)
    return lines

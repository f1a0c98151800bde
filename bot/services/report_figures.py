"""The monthly figures a community office reports upward (响应率, 解决率, 满意率), per category
and per grid, over the reports made in a period. One grouped query each, over `reports`.

How each rate is counted (said here once; the export and the chat show the same):
- reports: made in the period, within the place (by the building they concern); rejected
  reports (退单) are counted but left out of the response and resolution rates, since no one
  was to act on them.
- response rate: accepted (签收) by the deadline, over the reports not rejected.
- resolution rate: resolved and not reopened since (办结待确认 or closed after a resolution),
  over the reports not rejected.
- satisfaction rate: ratings of 4 or 5, over the reports rated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import access, audit, places
from bot.services.errors import DomainError
from bot.services.text import folded
from storage.models import Place, Report, ReportStatus, Role, RoleGrant

SATISFIED_FROM = 4  # of 5
FIGURE_ROLES = (Role.admin, Role.grid_worker)

NO_PLACE_TO_COUNT = N_("Figures are for community administrators and grid workers, over the places their role covers.")
BAD_PERIOD = N_("Write a month as 2026-10, or two dates as 2026-10-01 2026-10-31.")


@dataclass(frozen=True)
class Period:
    """Whole local days, from `first` to `last` inclusive."""

    first: date
    last: date

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        zone = ZoneInfo(timezone)
        return datetime.combine(self.first, time(), zone), datetime.combine(self.last + timedelta(days=1), time(), zone)

    def __str__(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def previous_month(day: date) -> Period:
    return month_of(day.replace(day=1) - timedelta(days=1))


def parse_period(text: str, today: date) -> Period:
    """'' → this month so far; '2026-10', '2026.10' or '2026年10月' → that month; '10月' → the
    last October; '2026-10-01 2026-10-31' (or 2026年10月1日 10月31日) → those days, one date →
    that day. Full-width digits and dashes from a Chinese input method read as ASCII; a year
    outside EARLIEST_YEAR to next year is no period anyone keeps figures for."""
    words = folded(text).split()
    try:
        if not words:
            return Period(today.replace(day=1), today)
        if len(words) == 1:
            parts = _date_parts(words[0], today)
            if len(parts) == 3:
                return Period(_day(parts, today), _day(parts, today))
            if len(parts) == 1 and "月" in words[0]:  # a month of the last twelve
                parts = [today.year if parts[0] <= today.month else today.year - 1, parts[0]]
            return month_of(_day([*parts, 1], today))
        if len(words) == 2:
            first, last = (_day(_date_parts(word, today), today) for word in words)
            if first <= last:
                return Period(first, last)
    except ValueError:
        pass
    raise DomainError(BAD_PERIOD)


EARLIEST_YEAR = 2000


def _date_parts(word: str, today: date) -> list[int]:
    """2026-10-01, 2026/10/1, 2026.10.1, 2026年10月1日 → [2026, 10, 1]; 10月1日 → this year's
    (or, if still to come, last year's); ValueError for anything else."""
    cleaned = word.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日号").strip("-")
    parts = [int(part) for part in cleaned.split("-")]
    if "月" in word and "年" not in word and len(parts) == 2:
        parts.insert(0, today.year if (parts[0], parts[1]) <= (today.month, today.day) else today.year - 1)
    return parts


def _day(parts: list[int], today: date) -> date:
    if len(parts) != 3 or not EARLIEST_YEAR <= parts[0] <= today.year + 1:
        raise ValueError(f"not a date of the figures' years: {parts}")
    return date(*parts)


@dataclass(frozen=True)
class Figures:
    """One row: a category, a grid, or the whole place."""

    key: str  # the category code, or the grid's place name ("" for reports with no grid worker)
    reports: int
    rejected: int
    accepted_in_time: int
    resolved: int
    rated: int
    satisfied: int

    @property
    def handled(self) -> int:
        return self.reports - self.rejected

    @property
    def response_rate(self) -> Fraction | None:
        return Fraction(self.accepted_in_time, self.handled) if self.handled else None

    @property
    def resolution_rate(self) -> Fraction | None:
        return Fraction(self.resolved, self.handled) if self.handled else None

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return Fraction(self.satisfied, self.rated) if self.rated else None


@dataclass(frozen=True)
class PlaceFigures:
    place: Place
    period: Period
    total: Figures
    by_category: list[Figures]
    by_grid: list[Figures]


def _counts() -> list[ColumnElement[int]]:
    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        func.count(Report.id),
        count_if(Report.status == ReportStatus.rejected),
        count_if(and_(Report.status != ReportStatus.rejected, Report.accepted_at.is_not(None), Report.accepted_at <= Report.deadline)),
        count_if(and_(Report.status.in_((ReportStatus.resolved, ReportStatus.closed)), Report.resolved_at.is_not(None))),
        count_if(Report.rating.is_not(None)),
        count_if(Report.rating >= SATISFIED_FROM),
    ]


async def figures(session: AsyncSession, place: Place, period: Period, timezone: str) -> PlaceFigures:
    """The figures of the reports about buildings within `place`, made in `period`."""
    start, end = period.bounds(timezone)
    building = Place.__table__.alias("building")
    made = (
        select()
        .select_from(Report)
        .join(building, building.c.id == Report.building_id)
        .where(or_(building.c.id == place.id, places.within(place, building.c)))
        .where(Report.created_at >= start, Report.created_at < end)
    )
    total_row = (await session.execute(made.add_columns(*_counts()))).one()
    category_rows = await session.execute(made.add_columns(Report.category, *_counts()).group_by(Report.category).order_by(func.count(Report.id).desc(), Report.category))
    grid = Place.__table__.alias("grid")
    grid_rows = await session.execute(
        made.outerjoin(grid, grid.c.id == Report.grid_place_id)
        .add_columns(func.coalesce(grid.c.name, ""), *_counts())
        .group_by(grid.c.name)
        .order_by(func.count(Report.id).desc(), grid.c.name)
    )
    return PlaceFigures(
        place=place,
        period=period,
        total=Figures("", *total_row),
        by_category=[Figures(*row) for row in category_rows],
        by_grid=[Figures(*row) for row in grid_rows],
    )


async def places_for(session: AsyncSession, actor: audit.Actor) -> list[Place]:
    """The places whose figures the actor may see: where they are an admin or a grid worker."""
    rows = await session.scalars(
        select(Place)
        .join(RoleGrant, RoleGrant.place_id == Place.id)
        .where(RoleGrant.person_id == actor.person_id, RoleGrant.role.in_(FIGURE_ROLES))
        .distinct()
        .order_by(Place.id)
    )
    found = list(rows)
    if not found:
        raise access.PermissionDenied(NO_PLACE_TO_COUNT)
    return found


def rate_text(rate: Fraction | None) -> str:
    """A rate as a whole percentage, "—" where nothing was there to count."""
    return "—" if rate is None else f"{round(rate * 100)}%"

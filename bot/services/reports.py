"""Problem reports (工单): from a resident's words to a closed, rated work order.

The lifecycle is ONE table, TRANSITIONS: for each action, the statuses it may start from, the
status it leads to (None: the status stays) and who may take it — the handler (a role allowed
`handle_report` over the report's building: its grid workers and the community's admins), the
reporter, any resident of the compound (a +1), or the bot itself (the sweeps). `act` is the
only way a report changes: it checks the table and the permission, writes the change and its
history entry, and queues the messages to the reporter, the +1 supporters and the handler
through the outbox, all in the caller's transaction.

Assignment: a new report goes to the grid worker whose grant covers its building most
closely (a grant on the building before one on its compound, before one on the community);
among equals, to the one with fewest open reports, then the earliest grant. No grid worker:
the report stays submitted and the community's admins see it in /tickets.
"""

from __future__ import annotations

import enum
import functools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.categories import Category
from bot.config import Settings
from bot.conversations.payloads import FollowUp, TicketOpen
from bot.delivery import outbox
from bot.i18n import N_
from bot.replies import L, Lines, Msg, Option, Reply, Text
from bot.routing.tokenizer import Tokenizer, normalize
from bot.services import access, audit
from bot.services.errors import DomainError, Term
from storage.db import upsert_insert
from storage.models import (
    OPEN_REPORT_STATUSES,
    DeliveryPriority,
    Household,
    Membership,
    Person,
    Place,
    PlaceKind,
    Report,
    ReportAction,
    ReportEvent,
    ReportStatus,
    ReportSupporter,
    Role,
    RoleGrant,
    utcnow,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"  # how deadlines are shown when the caller names no zone
MAX_TEXT_LENGTH = 2000
MAX_PHOTOS = 10  # Telegram's album holds ten
MAX_NOTE_LENGTH = 1000
# The handler is reminded when this share of the time to the deadline has passed.
REMIND_AT_SHARE = 0.75
# The reporter has this long to answer "solved?" before the report closes by itself.
FOLLOW_UP_DAYS = 3
# Duplicates: open reports of the same category and compound whose words overlap this much.
SIMILAR_WORDS = 0.3
DUPLICATE_CANDIDATES = 200
# Reports' texts kept segmented, the most recently compared: 6 KB each for a text of 240
# characters (measured with tracemalloc), 12 MB at most.
WORDS_REMEMBERED = 2_000
# Words that say nothing of the problem: left out when texts are compared.
FILLER_WORDS = frozenset("了 的 又 是 在 我 我们 你 您 他 她 它 吗 呢 啊 吧 呀 很 都 也 还 就 有 没 没有 和 跟 一直 已经 这 那 个 请 谢谢 麻烦 一下".split())

NO_SUCH_REPORT = N_("This report is not yours to follow, or no longer exists.")
WRONG_STATUS = N_("Report #{id} is {status} now: that is no longer possible.")
NOT_THE_REPORTER = N_("Only the resident who made report #{id} can do that.")
NOT_A_RESIDENT_THERE = N_("Only residents of that compound can add their voice to report #{id}.")
NOT_YOUR_BUILDING = N_("You can only report problems of a building where you have joined a household.")
UNKNOWN_CATEGORY = N_("That category does not exist (any more). Please choose again.")
NOT_A_GRID_WORKER = N_("That person is not a grid worker of this building.")
BAD_RATING = N_("A rating is a number from 1 to 5.")
ALREADY_RATED = N_("Report #{id} has been rated already. Thank you!")

STATUS_NAMES: dict[ReportStatus, str] = {
    ReportStatus.submitted: N_("submitted (受理)"),
    ReportStatus.assigned: N_("assigned to a grid worker (派单)"),
    ReportStatus.accepted: N_("accepted by the grid worker (签收)"),
    ReportStatus.in_progress: N_("being handled (办理)"),
    ReportStatus.resolved: N_("resolved, waiting for your confirmation (办结待确认)"),
    ReportStatus.closed: N_("closed"),
    ReportStatus.rejected: N_("rejected (退单)"),
}

ACTION_NAMES: dict[ReportAction, str] = {
    ReportAction.submitted: N_("reported"),
    ReportAction.assigned: N_("assigned"),
    ReportAction.accepted: N_("accepted"),
    ReportAction.progress: N_("progress"),
    ReportAction.resolved: N_("resolved"),
    ReportAction.confirmed: N_("confirmed solved"),
    ReportAction.rejected: N_("rejected"),
    ReportAction.reopened: N_("reopened"),
    ReportAction.recategorised: N_("category changed"),
    ReportAction.transferred: N_("transferred"),
    ReportAction.supported: N_("same problem +1"),
    ReportAction.rated: N_("rated"),
    ReportAction.reminded: N_("reminder to the handler"),
    ReportAction.escalated: N_("overdue, sent to the community office (催办)"),
    ReportAction.expired: N_("closed: no answer within 3 days"),
}


def status_name(status: ReportStatus) -> Msg:
    return L(STATUS_NAMES[status])


def action_name(action: ReportAction) -> Msg:
    return L(ACTION_NAMES[action])


class Who(enum.Enum):
    handler = "handler"  # allowed handle_report over the report's building
    reporter = "reporter"
    resident = "resident"  # a member of a household in the report's compound
    bot = "bot"  # the sweeps; no person may take these


@dataclass(frozen=True)
class Transition:
    sources: frozenset[ReportStatus]
    target: ReportStatus | None  # None: the status stays
    by: Who


OPEN = frozenset(OPEN_REPORT_STATUSES)
# "status IN the open ones" for the statements every new report runs, as fixed parameters: a
# list of values is an expanding parameter, its SQL rendered anew at every execution.
_STATUS_IS_OPEN = Report.status.in_([literal(status, Report.status.type) for status in OPEN_REPORT_STATUSES])
HANDLED = frozenset({ReportStatus.accepted, ReportStatus.in_progress})

# Who may move a report from where to where: the one table (see the module's docstring).
TRANSITIONS: dict[ReportAction, Transition] = {
    ReportAction.assigned: Transition(frozenset({ReportStatus.submitted}), ReportStatus.assigned, Who.bot),
    ReportAction.accepted: Transition(frozenset({ReportStatus.submitted, ReportStatus.assigned}), ReportStatus.accepted, Who.handler),
    ReportAction.progress: Transition(HANDLED, ReportStatus.in_progress, Who.handler),
    ReportAction.resolved: Transition(HANDLED, ReportStatus.resolved, Who.handler),
    ReportAction.rejected: Transition(OPEN, ReportStatus.rejected, Who.handler),
    ReportAction.recategorised: Transition(OPEN, None, Who.handler),
    ReportAction.transferred: Transition(OPEN, ReportStatus.assigned, Who.handler),
    ReportAction.confirmed: Transition(frozenset({ReportStatus.resolved}), ReportStatus.closed, Who.reporter),
    ReportAction.reopened: Transition(frozenset({ReportStatus.resolved, ReportStatus.closed}), ReportStatus.in_progress, Who.reporter),
    ReportAction.rated: Transition(frozenset({ReportStatus.closed}), None, Who.reporter),
    ReportAction.supported: Transition(OPEN, None, Who.resident),
    ReportAction.reminded: Transition(OPEN, None, Who.bot),
    ReportAction.escalated: Transition(OPEN, None, Who.bot),
    ReportAction.expired: Transition(frozenset({ReportStatus.resolved}), ReportStatus.closed, Who.bot),
}

# Changes the reporter and the supporters hear about; reminders and escalations go to the
# handler and the admins instead, a +1 to the handler only.
TOLD_TO_REPORTER = frozenset(
    {
        ReportAction.assigned, ReportAction.accepted, ReportAction.progress, ReportAction.resolved, ReportAction.rejected,
        ReportAction.recategorised, ReportAction.transferred, ReportAction.confirmed, ReportAction.reopened, ReportAction.expired,
    }
)
TOLD_TO_HANDLER = frozenset({ReportAction.assigned, ReportAction.transferred, ReportAction.reopened, ReportAction.supported, ReportAction.reminded})


@dataclass(frozen=True)
class Photo:
    channel: str
    file_id: str


@dataclass
class Draft:
    """What a resident has told so far, kept in the conversation's data until it is submitted."""

    text: str = ""
    photos: list[dict[str, str]] = field(default_factory=list)
    latitude: str | None = None
    longitude: str | None = None
    location_label: str = ""
    building_id: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Draft:
        draft = cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        # A copy: changed in place, the stored list would compare equal and never be saved.
        draft.photos = [dict(photo) for photo in draft.photos]
        return draft

    def to_data(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__dataclass_fields__}

    def add_photo(self, photo: Photo) -> bool:
        if len(self.photos) >= MAX_PHOTOS:
            return False
        self.photos.append({"channel": photo.channel, "file_id": photo.file_id})
        return True


def deadline_hours(category: Category, text: str) -> int:
    """The category's hours; its urgent hours when the text names an emergency (a gas leak)."""
    normalized = normalize(text)
    if category.urgent_deadline_hours and any(normalize(word) in normalized for word in category.urgent_keywords):
        return category.urgent_deadline_hours
    return category.deadline_hours


def _set_deadline(report: Report, category: Category, start: datetime) -> None:
    hours = deadline_hours(category, report.text)
    report.deadline = start + timedelta(hours=hours)
    report.remind_at = start + timedelta(hours=hours * REMIND_AT_SHARE)
    report.reminded_at = report.escalated_at = None


# --- where a resident reports from ------------------------------------------------------------


_places = Place.__table__
_PLACE_COLUMNS = tuple(column.key for column in _places.columns)
_COMPOUND = _places.alias("compound")
# Built once, on the tables: an alias's columns are made anew each time it is, and loading the
# buildings as ORM entities cost twice the query (both updates of a report ask it).
_BUILDINGS_OF_PERSON = (
    select(*_places.columns, _COMPOUND.c.name)
    .join(Household.__table__, Household.__table__.c.building_id == _places.c.id)
    .join(Membership.__table__, Membership.__table__.c.household_id == Household.__table__.c.id)
    .outerjoin(_COMPOUND, _COMPOUND.c.id == _places.c.compound_id)
    .where(Membership.__table__.c.person_id == bindparam("person_id"))
    .distinct().order_by(_places.c.id)
)


@dataclass(frozen=True)
class BuildingChoice:
    place: Place  # the building: its row's values, read only (not in the session)
    name: str  # "西冲塘小区 1栋"

    @property
    def building_id(self) -> int:
        return self.place.id


async def buildings_of(session: AsyncSession, person_id: int) -> list[BuildingChoice]:
    """The buildings of the person's households, each once, named with their compound: one statement."""
    choices = []
    for *building_row, compound_name in await session.execute(_BUILDINGS_OF_PERSON, {"person_id": person_id}):
        building = Place(**dict(zip(_PLACE_COLUMNS, building_row)))
        choices.append(BuildingChoice(building, " ".join(filter(None, (compound_name, building.name)))))
    return choices


# --- similar open reports -------------------------------------------------------------------


# The building's compound, found in the same statement (a building outside any compound: itself).
_COMPOUND_OF_BUILDING = (
    select(Place.compound_id).where(Place.id == bindparam("building_id"), Place.kind == PlaceKind.building).scalar_subquery()
)
_OPEN_NEARBY = (  # built once, as _BUILDINGS_OF_PERSON is; only what the comparison reads
    select(Report.id, Report.text)
    .where(
        or_(Report.compound_id == _COMPOUND_OF_BUILDING, and_(_COMPOUND_OF_BUILDING.is_(None), Report.building_id == bindparam("building_id"))),
        Report.category == bindparam("category"),
        _STATUS_IS_OPEN,
    )
    .order_by(Report.id.desc())
    .limit(DUPLICATE_CANDIDATES)
)


@functools.lru_cache(maxsize=WORDS_REMEMBERED)
def meaningful_words(tokenizer: Tokenizer, text: str) -> frozenset[str]:
    """Remembered: every new report is compared with up to DUPLICATE_CANDIDATES open ones
    nearby, whose words stay the same (each word kept once, however many texts use it)."""
    return frozenset(sys.intern(word) for word in tokenizer.words(normalize(text)) if word not in FILLER_WORDS)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of the shorter text's words that the other uses too (residents write short
    messages of unequal length: "电梯坏了" and "3栋电梯坏了，老人下不了楼" are one problem);
    a single shared word is not enough unless the shorter text has only one."""
    if not a or not b:
        return 0.0
    shared, shorter = len(a & b), min(len(a), len(b))
    return shared / shorter if shared >= min(2, shorter) else 0.0


async def similar_open_reports(
    session: AsyncSession, tokenizer: Tokenizer, building_id: int, category: str, text: str, limit: int = 3
) -> list[Report]:
    """Open reports of the same category in the same building or compound that read alike,
    most alike first."""
    candidates = await session.execute(_OPEN_NEARBY, {"building_id": building_id, "category": category})
    words = meaningful_words(tokenizer, text)
    scored = ((similarity(words, meaningful_words(tokenizer, other_text)), report_id) for report_id, other_text in candidates)
    alike = sorted(((score, report_id) for score, report_id in scored if score >= SIMILAR_WORDS), key=lambda pair: (-pair[0], -pair[1]))[:limit]
    if not alike:  # as for most new reports: no report is loaded whole
        return []
    found = {report.id: report for report in await session.scalars(select(Report).where(Report.id.in_([report_id for _, report_id in alike])))}
    return [found[report_id] for _, report_id in alike]


# --- submitting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    report: Report
    handler_name: str | None  # the grid worker it went to; None: the community's admins will assign it


@dataclass(frozen=True)
class Assignee:
    person_id: int
    place_id: int  # the grant's place: the report's grid
    name: str


async def submit(
    session: AsyncSession, actor: audit.Actor, draft: Draft, category: Category, *,
    routed_category: str | None = None, timezone: str = DEFAULT_TIMEZONE,
) -> Submitted:
    """Save a new report, assigned at once to the grid worker whose grant covers its building
    most closely (its history says both), and tell that grid worker, in the caller's
    transaction. The reporter reads whom it went to in the answer to their submission."""
    assert actor.person_id is not None
    choice = next((b for b in await buildings_of(session, actor.person_id) if b.building_id == draft.building_id), None)
    if choice is None:
        raise DomainError(NOT_YOUR_BUILDING)
    building = choice.place
    handler = await _grid_worker_for(session, building)
    now = utcnow()
    report = Report(
        reporter_id=actor.person_id, text=draft.text[:MAX_TEXT_LENGTH], category=category.code, routed_category=routed_category,
        status=ReportStatus.assigned if handler else ReportStatus.submitted, priority=0,
        community_id=building.community_id, compound_id=building.compound_id, building_id=building.id,
        grid_place_id=handler.place_id if handler else None, handler_id=handler.person_id if handler else None,
        photos=list(draft.photos[:MAX_PHOTOS]), location_label=draft.location_label[:200],
        latitude=Decimal(draft.latitude) if draft.latitude else None, longitude=Decimal(draft.longitude) if draft.longitude else None,
        created_at=now,
    )
    _set_deadline(report, category, now)
    # Written on the table (the ORM's flush of one object cost 2-3 times the INSERT): the object
    # stays outside the session and holds what was written, for the history and the messages.
    written = await session.execute(_NEW_REPORT, {column: report.__dict__[column] for column in _REPORT_COLUMNS if column in report.__dict__})
    report.id = written.inserted_primary_key[0]
    history = [_history_entry(report, ReportAction.submitted, None, None, ReportStatus.submitted, now=now)]
    if handler is not None:
        history.append(_history_entry(report, ReportAction.assigned, None, ReportStatus.submitted, ReportStatus.assigned, now=now))
        told, action = [handler.person_id], ReportAction.assigned
    else:  # no grid worker covers the building: the admins assign or handle it themselves
        told, action = await admins_over(session, report), ReportAction.submitted
    await _record(session, *history)
    source = f"report:{report.id}"
    await _send(session, told, _handler_message(report, action, "", timezone), source)
    await audit.record(session, actor, "submit_report", source, category=category.code)
    return Submitted(report, handler.name if handler else None)


_NEW_REPORT = insert(Report.__table__)
_REPORT_COLUMNS = tuple(column.key for column in Report.__table__.columns)

# A place and the levels above it that grants cover (access.covering_ids), as fixed parameters,
# None where a level is missing: an expanding list is rendered anew at every execution.
_COVERING_SLOTS = len(access.SCOPE_KINDS) + 1
_GRID_WORKERS_COVERING = (  # built once: every new report asks
    select(
        RoleGrant.person_id, RoleGrant.place_id,
        select(func.count()).where(Report.handler_id == RoleGrant.person_id, _STATUS_IS_OPEN).scalar_subquery(),
        RoleGrant.id, Person.display_name,
    )
    .join(Person, Person.id == RoleGrant.person_id)
    .where(RoleGrant.role == Role.grid_worker, RoleGrant.place_id.in_([bindparam(f"covering_{slot}") for slot in range(_COVERING_SLOTS)]))
)


async def _grid_worker_for(session: AsyncSession, building: Place) -> Assignee | None:
    """The grid worker a new report of this building goes to: the closest grant covering it,
    then the fewest open reports."""
    covering = access.covering_ids(building)
    padded = covering + [None] * (_COVERING_SLOTS - len(covering))
    rows = (await session.execute(_GRID_WORKERS_COVERING, {f"covering_{slot}": place_id for slot, place_id in enumerate(padded)})).all()
    if not rows:
        return None
    # The closest grant first (covering_ids runs from the community down to the building).
    person_id, place_id, _, _, name = min(rows, key=lambda row: (-covering.index(row[1]), row[2], row[3]))
    return Assignee(person_id, place_id, name)


async def grid_workers_of(session: AsyncSession, report: Report) -> list[tuple[int, str]]:
    """Grid workers whose grants cover the report's building: whom it may be transferred to."""
    building = await _place_of(session, report)
    rows = await session.execute(
        select(Person.id, Person.display_name).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == Role.grid_worker, RoleGrant.place_id.in_(access.covering_ids(building)))
        .distinct().order_by(Person.id)
    )
    return [(person_id, name) for person_id, name in rows]


async def _place_of(session: AsyncSession, report: Report) -> Place:
    place_id = report.building_id or report.compound_id or report.community_id
    place = await session.get(Place, place_id) if place_id else None
    if place is None:
        raise DomainError(NO_SUCH_REPORT)
    return place


# --- the one way a report changes ------------------------------------------------------------


async def act(
    session: AsyncSession,
    actor_id: int | None,
    report_id: int,
    action: ReportAction,
    *,
    note: str = "",
    photo: Photo | None = None,
    category: Category | None = None,
    to_person_id: int | None = None,
    rating: int | None = None,
    now: datetime | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Report:
    """Take `action` on the report as `actor_id` (None: the bot), if TRANSITIONS allows it from
    the report's status and the actor's place; refused with a DomainError otherwise. A button
    pressed twice, or after someone else moved the report, is refused here and changes nothing."""
    report = await check(session, actor_id, report_id, action, lock=True)
    transition = TRANSITIONS[action]
    now = now or utcnow()
    before = report.status
    note = note.strip()[:MAX_NOTE_LENGTH]
    await _apply(session, report, action, actor_id, now, category=category, to_person_id=to_person_id, rating=rating)
    if transition.target is not None:
        report.status = transition.target
    await _record(session, _history_entry(report, action, actor_id, before, report.status, note=note, photo=photo, now=now))
    await _notify(session, report, action, actor_id, note, timezone)
    return report


async def check(session: AsyncSession, actor_id: int | None, report_id: int, action: ReportAction, *, lock: bool = False) -> Report:
    """The report, when `actor_id` may take `action` on it now; refused as `act` would refuse.
    Flows ask before they ask for a note, so nobody writes one for nothing."""
    locking = lock and session.bind.dialect.name == "postgresql"  # two handlers at once: one waits
    # Locked, the row is read again: another handler's change committed meanwhile counts.
    report = await session.get(Report, report_id, with_for_update=locking, populate_existing=locking)
    if report is None:
        raise DomainError(NO_SUCH_REPORT)
    transition = TRANSITIONS[action]
    await _check_actor(session, actor_id, report, transition.by)
    if report.status not in transition.sources:
        raise DomainError(WRONG_STATUS, id=report.id, status=_term(report.status))
    return report


def _term(status: ReportStatus) -> Term:
    return Term(STATUS_NAMES[status])


async def _check_actor(session: AsyncSession, actor_id: int | None, report: Report, by: Who) -> None:
    if by is Who.bot:
        if actor_id is not None:
            raise access.PermissionDenied(access.NOT_ALLOWED)
        return
    if actor_id is None:
        return  # the bot may do what people may (a sweep closing, an assignment at submission)
    if by is Who.reporter:
        if report.reporter_id != actor_id:
            raise DomainError(NOT_THE_REPORTER, id=report.id)
        return
    if by is Who.resident:
        lives_there = await session.scalar(
            select(func.count()).select_from(Membership).join(Household, Household.id == Membership.household_id)
            .where(Membership.person_id == actor_id, Household.compound_id == report.compound_id)
        )
        if not lives_there:
            raise DomainError(NOT_A_RESIDENT_THERE, id=report.id)
        return
    # The channel an actor used matters to the audit log only, not to what their roles allow.
    await access.require(session, audit.Actor("chat", actor_id), access.Permission.handle_report, await _place_of(session, report))


async def _apply(
    session: AsyncSession, report: Report, action: ReportAction, actor_id: int | None, now: datetime, *,
    category: Category | None, to_person_id: int | None, rating: int | None,
) -> None:
    """What an action changes besides the status."""
    if action in (ReportAction.assigned, ReportAction.transferred):
        workers = dict(await grid_workers_of(session, report))
        if to_person_id not in workers:
            raise DomainError(NOT_A_GRID_WORKER)
        report.handler_id = to_person_id
    elif action is ReportAction.accepted:
        report.handler_id = report.handler_id or actor_id
        report.accepted_at = report.accepted_at or now
    elif action is ReportAction.resolved:
        report.resolved_at = now
    elif action in (ReportAction.confirmed, ReportAction.expired, ReportAction.rejected):
        report.closed_at = now
    elif action is ReportAction.reopened:
        report.closed_at = None
        report.rating = None
        if category is not None:
            _set_deadline(report, category, now)
    elif action is ReportAction.recategorised:
        if category is None:
            raise DomainError(UNKNOWN_CATEGORY)
        report.category = category.code
    elif action is ReportAction.supported:
        assert actor_id is not None
        upsert = upsert_insert(session)
        added = await session.execute(
            upsert(ReportSupporter).values(report_id=report.id, person_id=actor_id, created_at=now).on_conflict_do_nothing()
        )
        if added.rowcount:
            report.priority += 1
    elif action is ReportAction.rated:
        if rating is None or not 1 <= rating <= 5:
            raise DomainError(BAD_RATING)
        if report.rating is not None:  # the rating is the reporter's one answer to the follow-up
            raise DomainError(ALREADY_RATED, id=report.id)
        report.rating = rating
    elif action is ReportAction.reminded:
        report.reminded_at = now
    elif action is ReportAction.escalated:
        report.escalated_at = now


def _history_entry(
    report: Report, action: ReportAction, actor_id: int | None, before: ReportStatus | None, after: ReportStatus,
    *, note: str = "", photo: Photo | None = None, now: datetime | None = None,
) -> dict[str, Any]:
    """One entry of the report's history, as a row for `_record`."""
    return {
        "report_id": report.id, "actor_id": actor_id, "action": action, "from_status": before, "to_status": after, "note": note,
        "photo_channel": photo.channel if photo else None, "photo_file_id": photo.file_id if photo else None, "created_at": now or utcnow(),
    }


_EVENTS = insert(ReportEvent.__table__)  # on the table: the ORM's bulk insert costs more, and its rows are not read back


async def _record(session: AsyncSession, *entries: dict[str, Any]) -> None:
    """Write history entries, all in one statement (nothing reads them back in the same update)."""
    await session.execute(_EVENTS, list(entries))


# --- who hears of it ------------------------------------------------------------------------


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def summary(report: Report) -> str:
    text = " ".join(report.text.split())
    return text if len(text) <= 30 else text[:30] + "…"


async def supporters(session: AsyncSession, report_id: int) -> list[int]:
    return list(await session.scalars(select(ReportSupporter.person_id).where(ReportSupporter.report_id == report_id)))


async def admins_over(session: AsyncSession, report: Report) -> list[int]:
    """The people allowed to oversee reports there: the community's admins."""
    place = await _place_of(session, report)
    return list(
        await session.scalars(
            select(RoleGrant.person_id).where(
                RoleGrant.role.in_(access.ALLOWED[access.Permission.oversee_reports]), RoleGrant.place_id.in_(access.covering_ids(place))
            ).distinct()
        )
    )


async def _notify(session: AsyncSession, report: Report, action: ReportAction, actor_id: int | None, note: str, timezone: str) -> None:
    source = f"report:{report.id}"
    if action in TOLD_TO_REPORTER:
        residents = [report.reporter_id] if report.reporter_id else []
        residents += await supporters(session, report.id)
        heard = [person for person in dict.fromkeys(residents) if person != actor_id]
        await _send(session, heard, _resident_message(report, action, note), source)
        if action is ReportAction.resolved and report.reporter_id and report.reporter_id != actor_id:
            await _send(session, [report.reporter_id], follow_up_question(report), source)
    if action in TOLD_TO_HANDLER and report.handler_id and report.handler_id != actor_id:
        await _send(session, [report.handler_id], _handler_message(report, action, note, timezone), source)
    if action is ReportAction.escalated:
        await _send(session, await admins_over(session, report), _handler_message(report, action, note, timezone), source)


async def _send(session: AsyncSession, person_ids: Iterable[int], reply: Reply, source: str) -> None:
    people = list(person_ids)
    if people:
        await outbox.enqueue_to_people(session, people, reply, source=source, priority=DeliveryPriority.personal)


def _resident_message(report: Report, action: ReportAction, note: str) -> Reply:
    lines: list[Text] = [L("Report #{id} ({summary}) is now: {status}.", id=report.id, summary=summary(report), status=status_name(report.status))]
    if note:
        lines.append(L("Note: {note}", note=note))
    return Reply(Lines(lines), title=L("Your report: {action}", action=action_name(action)))


def _handler_message(report: Report, action: ReportAction, note: str, timezone: str) -> Reply:
    deadline = local_time(report.deadline, timezone)
    lines: list[Text] = [L("Report #{id}: {summary}", id=report.id, summary=summary(report)), L("Deadline: {deadline}", deadline=deadline)]
    if note:
        lines.append(L("Note: {note}", note=note))
    return Reply(Lines(lines), title=L("Work order: {action}", action=action_name(action)), options=(Option(L("Open"), TicketOpen(report.id).pack()),))


def follow_up_question(report: Report) -> Reply:
    """回访: asked of the reporter when the report is resolved."""
    return Reply(
        L("Report #{id} ({summary}) was marked as resolved. Is the problem solved?", id=report.id, summary=summary(report)),
        title=L("Follow-up (回访)"),
        options=(Option(L("Yes, solved"), FollowUp(report.id, FollowUp.SOLVED).pack()), Option(L("Not yet"), FollowUp(report.id, FollowUp.NOT_YET).pack())),
    )


# --- lists ----------------------------------------------------------------------------------


async def reports_of(session: AsyncSession, person_id: int, limit: int = 10, offset: int = 0) -> list[Report]:
    """The person's own reports and those they +1'd, newest first, from the `offset`th."""
    supported = select(ReportSupporter.report_id).where(ReportSupporter.person_id == person_id)
    return list(
        await session.scalars(
            select(Report).where((Report.reporter_id == person_id) | Report.id.in_(supported)).order_by(Report.id.desc()).limit(limit).offset(offset)
        )
    )


async def history(session: AsyncSession, report_id: int) -> list[ReportEvent]:
    return list(await session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)))


async def followed_report(session: AsyncSession, person_id: int, report_id: int) -> Report:
    """A report its reporter or a supporter may read."""
    report = await session.get(Report, report_id)
    if report is None or (report.reporter_id != person_id and person_id not in await supporters(session, report_id)):
        raise DomainError(NO_SUCH_REPORT)
    return report


async def handled_report(session: AsyncSession, actor: audit.Actor, report_id: int) -> Report:
    """A report the actor may handle: in a place their grid worker or admin role covers."""
    report = await session.get(Report, report_id)
    if report is None or not await access.is_allowed(session, actor, access.Permission.handle_report, await _place_of(session, report)):
        raise DomainError(NO_SUCH_REPORT)
    return report


async def tickets(
    session: AsyncSession, actor: audit.Actor, *, now: datetime, category: str | None = None,
    statuses: Iterable[ReportStatus] = OPEN_REPORT_STATUSES, limit: int = 10, offset: int = 0,
) -> list[Report]:
    """Reports in the places the actor handles: overdue first, then the most supported, then
    the nearest deadline (then the oldest, so that pages do not overlap); from the `offset`th."""
    query = (
        select(Report).join(Place, Place.id == Report.building_id)
        .where(access.allowed_places(actor, access.Permission.handle_report, Place), Report.status.in_(list(statuses)))
    )
    if category is not None:
        query = query.where(Report.category == category)
    overdue = case((Report.deadline < now, 0), else_=1)
    return list(await session.scalars(query.order_by(overdue, Report.priority.desc(), Report.deadline, Report.id).limit(limit).offset(offset)))


# --- sweeps (bot/scheduling.py) -------------------------------------------------------------


async def remind_and_escalate(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Remind handlers of open reports whose reminder time has come, and send the overdue ones
    to the admins (催办); each marked on the report in this same transaction, once."""
    done = 0
    due_reminders = select(Report.id).where(
        Report.status.in_(OPEN_REPORT_STATUSES), Report.remind_at <= now, Report.deadline > now, Report.reminded_at.is_(None)
    )
    for report_id in list(await session.scalars(due_reminders.order_by(Report.id))):
        await act(session, None, report_id, ReportAction.reminded, now=now, timezone=settings.timezone)
        done += 1
    overdue = select(Report.id).where(Report.status.in_(OPEN_REPORT_STATUSES), Report.deadline <= now, Report.escalated_at.is_(None))
    for report_id in list(await session.scalars(overdue.order_by(Report.id))):
        await act(session, None, report_id, ReportAction.escalated, now=now, timezone=settings.timezone)
        done += 1
    return done


async def close_unanswered(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Close resolved reports whose reporter has not answered "solved?" within the follow-up days."""
    cutoff = now - timedelta(days=FOLLOW_UP_DAYS)
    due = select(Report.id).where(Report.status == ReportStatus.resolved, Report.resolved_at <= cutoff).order_by(Report.id)
    ids = list(await session.scalars(due))
    for report_id in ids:
        await act(session, None, report_id, ReportAction.expired, now=now, timezone=settings.timezone)
    return len(ids)


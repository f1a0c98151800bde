"""Questions to grid workers: a resident's question is first matched against what the
community has answered (FAQ entries and past answers); if none helps, it waits in the queue of
the resident's grid, first come first served, until a grid worker (or, when transferred or
escalated, an administrator) claims it. The thread (details, follow-ups, answers) is kept, so
the flows can relay each message to the other side through the outbox.

The grid of a building is the place of the grid worker role that covers it most closely (the
building, its compound, or its community); with no grid worker there, the community."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import access, audit
from bot.services.errors import DomainError
from bot.services.similarity import Candidate, closest
from storage.models import (
    FaqEntry,
    Household,
    Membership,
    Person,
    Place,
    Question,
    QuestionMessage,
    QuestionStatus,
    Role,
    RoleGrant,
    utcnow,
)

NO_HOUSEHOLD = N_("Questions go to the grid worker of your building: join your household first (send /start with the code from your stairwell).")
ALREADY_OPEN = N_("You already have a question open. Add to it, or withdraw it, before asking another.")
NO_SUCH_QUESTION = N_("This question is no longer open, or is not yours to handle.")
NO_SUCH_ENTRY = N_("That entry no longer exists.")
MAX_TEXT_LENGTH = 2000
# Candidates read per question: a community's FAQ and its newest answers. Similarity is computed
# in Python, so this bounds the work of one question (about 20 ms for 600 short texts).
MAX_FAQ_CANDIDATES = 300
MAX_ANSWER_CANDIDATES = 300
# Typical waiting time: the median of a grid's newest answered questions.
WAIT_SAMPLE = 50

OPEN = (QuestionStatus.waiting, QuestionStatus.claimed)


# --- asking -------------------------------------------------------------------------------


async def home(session: AsyncSession, person_id: int) -> Household:
    """The household a question is asked from: the person's first."""
    household = await session.scalar(
        select(Household).join(Membership, Membership.household_id == Household.id).where(Membership.person_id == person_id).order_by(Membership.id).limit(1)
    )
    if household is None or household.building_id is None or household.community_id is None:
        raise DomainError(NO_HOUSEHOLD)
    return household


async def grid_of(session: AsyncSession, household: Household) -> int:
    """The place whose grid worker answers this household: the closest grant covering it."""
    covering = access.covering_ids(household)  # community, compound, building: top down
    granted = set(
        await session.scalars(select(RoleGrant.place_id).where(RoleGrant.role == Role.grid_worker, RoleGrant.place_id.in_(covering)))
    )
    closest_grant = [place_id for place_id in covering if place_id in granted]
    assert household.community_id is not None
    return closest_grant[-1] if closest_grant else household.community_id


async def open_question(session: AsyncSession, person_id: int) -> Question | None:
    return await session.scalar(select(Question).where(Question.person_id == person_id, Question.status.in_(OPEN)))


async def suggestions(session: AsyncSession, person_id: int, text: str) -> list[Candidate]:
    """Up to three FAQ entries or past answers of the person's community that read like `text`."""
    household = await home(session, person_id)
    return [candidate for candidate, _score in closest(text, await _candidates(session, household.community_id))]


async def _candidates(session: AsyncSession, community_id: int | None) -> list[Candidate]:
    faq = await session.execute(
        select(FaqEntry.id, FaqEntry.question, FaqEntry.answer).where(FaqEntry.community_id == community_id).order_by(FaqEntry.id.desc()).limit(MAX_FAQ_CANDIDATES)
    )
    first_answer = (
        select(QuestionMessage.question_id, func.min(QuestionMessage.id).label("message_id"))
        .where(QuestionMessage.from_resident.is_(False), QuestionMessage.text != "")
        .group_by(QuestionMessage.question_id)
        .subquery()
    )
    answers = await session.execute(
        select(Question.id, Question.text, QuestionMessage.text)
        .join(first_answer, first_answer.c.question_id == Question.id)
        .join(QuestionMessage, QuestionMessage.id == first_answer.c.message_id)
        .where(Question.community_id == community_id, Question.status == QuestionStatus.closed, or_(Question.rating.is_(None), Question.rating >= 3))
        .order_by(Question.id.desc())
        .limit(MAX_ANSWER_CANDIDATES)
    )
    return [Candidate("faq", *row) for row in faq] + [Candidate("answer", *row) for row in answers]


async def self_served(session: AsyncSession, person_id: int, text: str, kind: str, entry_id: int) -> Question:
    """The resident said an FAQ entry or past answer answered the question: kept for the figures."""
    household = await home(session, person_id)
    entry = next((c for c in await _candidates(session, household.community_id) if c.kind == kind and c.id == entry_id), None)
    if entry is None:
        raise DomainError(NO_SUCH_ENTRY)
    question = Question(
        person_id=person_id, building_id=household.building_id, community_id=household.community_id, grid_id=await grid_of(session, household),
        text=text[:MAX_TEXT_LENGTH], status=QuestionStatus.self_served, closed_at=utcnow(),
        faq_entry_id=entry_id if kind == "faq" else None, answered_by_question_id=entry_id if kind == "answer" else None,
    )
    session.add(question)
    await session.flush()
    return question


async def ask(session: AsyncSession, person_id: int, text: str) -> Question:
    """Put the question in its grid's queue."""
    household = await home(session, person_id)
    if await open_question(session, person_id) is not None:
        raise DomainError(ALREADY_OPEN)
    question = Question(
        person_id=person_id, building_id=household.building_id, community_id=household.community_id, grid_id=await grid_of(session, household),
        text=text[:MAX_TEXT_LENGTH], status=QuestionStatus.waiting,
    )
    session.add(question)
    await session.flush()
    return question


async def place_in_line(session: AsyncSession, question: Question) -> int:
    """1 for the next to be taken in its grid."""
    ahead = await session.scalar(
        select(func.count()).where(
            Question.status == QuestionStatus.waiting, Question.grid_id == question.grid_id,
            or_(Question.created_at < question.created_at, and_(Question.created_at == question.created_at, Question.id < question.id)),
        )
    )
    return (ahead or 0) + 1


async def typical_wait(session: AsyncSession, grid_id: int) -> timedelta | None:
    """The median wait for a first answer over the grid's newest answered questions; None before any."""
    rows = await session.execute(
        select(Question.created_at, Question.first_answered_at)
        .where(Question.grid_id == grid_id, Question.first_answered_at.is_not(None))
        .order_by(Question.first_answered_at.desc())
        .limit(WAIT_SAMPLE)
    )
    waits = [(answered - asked).total_seconds() for asked, answered in rows]
    return timedelta(seconds=statistics.median(waits)) if waits else None


async def add_message(session: AsyncSession, question: Question, author_id: int, text: str, photo_file_id: str | None, *, from_resident: bool) -> None:
    session.add(QuestionMessage(question_id=question.id, author_id=author_id, from_resident=from_resident, text=text[:MAX_TEXT_LENGTH], photo_file_id=photo_file_id))
    await session.flush()


async def resident_question(session: AsyncSession, person_id: int, question_id: int) -> Question:
    """The resident's own open question with this id (a button's id can be forged)."""
    question = await session.get(Question, question_id)
    if question is None or question.person_id != person_id or question.status not in OPEN:
        raise DomainError(NO_SUCH_QUESTION)
    return question


async def withdraw(session: AsyncSession, person_id: int, question_id: int) -> Question:
    question = await resident_question(session, person_id, question_id)
    question.status, question.closed_at = QuestionStatus.withdrawn, utcnow()
    return question


async def rate(session: AsyncSession, person_id: int, question_id: int, stars: int) -> None:
    question = await session.get(Question, question_id)
    if question is None or question.person_id != person_id or question.status is not QuestionStatus.closed or not 1 <= stars <= 5:
        raise DomainError(NO_SUCH_QUESTION)
    question.rating = stars


# --- grid workers and admins ----------------------------------------------------------------


async def _grants(session: AsyncSession, actor: audit.Actor, roles: frozenset[Role]) -> list[int]:
    return list(await session.scalars(select(RoleGrant.place_id).where(RoleGrant.person_id == actor.person_id, RoleGrant.role.in_(roles))))


async def _queue(session: AsyncSession, actor: audit.Actor) -> Select[tuple[int]] | None:
    """The waiting questions this person may take: their grids' (as grid worker), and those
    transferred or escalated to admins within their places (as admin). None: they answer none."""
    answering = access.ALLOWED[access.Permission.answer_questions]
    grids = await _grants(session, actor, answering & {Role.grid_worker})
    admin_places = await _grants(session, actor, answering - {Role.grid_worker})
    if not grids and not admin_places:
        return None
    buildings_within = select(Place.id).where(or_(Place.id.in_(admin_places), Place.compound_id.in_(admin_places), Place.community_id.in_(admin_places)))
    for_admins = and_(or_(Question.for_admin.is_(True), Question.escalated_at.is_not(None)), Question.building_id.in_(buildings_within))
    return select(Question.id).where(Question.status == QuestionStatus.waiting, or_(Question.grid_id.in_(grids), for_admins))


async def may_answer(session: AsyncSession, actor: audit.Actor) -> bool:
    return await _queue(session, actor) is not None


@dataclass(frozen=True)
class QueueView:
    waiting: int
    oldest: datetime | None
    holding: list[Question]


async def queue_view(session: AsyncSession, actor: audit.Actor) -> QueueView:
    queue = await _queue(session, actor)
    if queue is None:
        raise access.PermissionDenied(access.NOT_ALLOWED)
    waiting, oldest = (await session.execute(select(func.count(), func.min(Question.created_at)).where(Question.id.in_(queue)))).one()
    holding = list(await session.scalars(select(Question).where(Question.claimed_by == actor.person_id, Question.status == QuestionStatus.claimed).order_by(Question.id)))
    return QueueView(waiting, oldest, holding)


async def take_next(session: AsyncSession, actor: audit.Actor) -> Question | None:
    """Claim the oldest waiting question this person may take, or None when none waits.

    Two workers pressing at once never get the same one. PostgreSQL: the row is locked with
    FOR UPDATE SKIP LOCKED, so a second worker skips to the next instead of waiting for (and
    then losing) the first. SQLite: every transaction holds the write lock from its start
    (BEGIN IMMEDIATE, storage/db.py), and the UPDATE still requires the row to be waiting."""
    queue = await _queue(session, actor)
    if queue is None:
        raise access.PermissionDenied(access.NOT_ALLOWED)
    oldest = select(Question.id).where(Question.id.in_(queue)).order_by(Question.created_at, Question.id).limit(1)
    if session.bind.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True, of=Question)
    question_id = await session.scalar(oldest)
    if question_id is None:
        return None
    now = utcnow()
    claimed = await session.execute(
        update(Question)
        .where(Question.id == question_id, Question.status == QuestionStatus.waiting)
        .values(status=QuestionStatus.claimed, claimed_by=actor.person_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return None
    question = await session.get(Question, question_id, populate_existing=True)
    await audit.record(session, actor, "take_question", f"question:{question_id}")
    return question


async def held(session: AsyncSession, actor: audit.Actor, question_id: int) -> Question:
    """A question this person holds now (claimed, and not taken from them by a transfer)."""
    question = await session.get(Question, question_id)
    if question is None or question.status is not QuestionStatus.claimed or question.claimed_by != actor.person_id:
        raise DomainError(NO_SUCH_QUESTION)
    return question


async def answer(session: AsyncSession, actor: audit.Actor, question_id: int, text: str, photo_file_id: str | None) -> Question:
    question = await held(session, actor, question_id)
    assert actor.person_id is not None
    await add_message(session, question, actor.person_id, text, photo_file_id, from_resident=False)
    if question.first_answered_at is None:
        question.first_answered_at, question.answered_by = utcnow(), actor.person_id
    return question


@dataclass(frozen=True)
class Colleague:
    person_id: int
    name: str


async def colleagues(session: AsyncSession, question: Question, actor: audit.Actor) -> list[Colleague]:
    """The other grid workers whose grants cover the question's building."""
    building = await session.get(Place, question.building_id)
    assert building is not None
    rows = await session.execute(
        select(Person.id, Person.display_name)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == Role.grid_worker, RoleGrant.place_id.in_(access.covering_ids(building)), Person.id != actor.person_id)
        .distinct()
        .order_by(Person.id)
    )
    return [Colleague(person_id, name) for person_id, name in rows]


async def transfer(session: AsyncSession, actor: audit.Actor, question_id: int, to_person_id: int | None) -> Question:
    """To another grid worker of the building (who then holds it), or, with None, back into the
    queue for the community's administrators."""
    question = await held(session, actor, question_id)
    if to_person_id is None:
        question.status, question.claimed_by, question.claimed_at, question.for_admin = QuestionStatus.waiting, None, None, True
    else:
        if to_person_id not in {c.person_id for c in await colleagues(session, question, actor)}:
            raise DomainError(NO_SUCH_QUESTION)
        question.claimed_by, question.claimed_at = to_person_id, utcnow()
    await audit.record(session, actor, "transfer_question", f"question:{question.id}", to=to_person_id)
    return question


async def close(session: AsyncSession, actor: audit.Actor, question_id: int) -> Question:
    question = await held(session, actor, question_id)
    question.status, question.closed_at = QuestionStatus.closed, utcnow()
    return question


async def close_by_resident(session: AsyncSession, person_id: int, question_id: int) -> Question:
    """"Solved, thank you": only once someone has answered."""
    question = await resident_question(session, person_id, question_id)
    if question.first_answered_at is None:
        raise DomainError(NO_SUCH_QUESTION)
    question.status, question.closed_at = QuestionStatus.closed, utcnow()
    return question


async def thread(session: AsyncSession, question_id: int) -> list[QuestionMessage]:
    return list(await session.scalars(select(QuestionMessage).where(QuestionMessage.question_id == question_id).order_by(QuestionMessage.id)))


async def last_answer(session: AsyncSession, question_id: int) -> str:
    answers = [m.text for m in await thread(session, question_id) if not m.from_resident and m.text]
    return answers[-1] if answers else ""


# --- FAQ ----------------------------------------------------------------------------------


async def _community(session: AsyncSession, community_id: int) -> Place:
    community = await session.get(Place, community_id)
    if community is None:
        raise DomainError(NO_SUCH_ENTRY)
    return community


async def add_faq(session: AsyncSession, actor: audit.Actor, community_id: int, question: str, answer_text: str) -> FaqEntry:
    await access.require(session, actor, access.Permission.add_faq, await _community(session, community_id))
    entry = FaqEntry(community_id=community_id, question=question[:MAX_TEXT_LENGTH], answer=answer_text[:MAX_TEXT_LENGTH], created_by=actor.person_id)
    session.add(entry)
    await session.flush()
    await audit.record(session, actor, "add_faq", f"faq:{entry.id}")
    return entry


async def faq_communities(session: AsyncSession, actor: audit.Actor) -> list[int]:
    """The communities whose FAQ this person manages."""
    places = await _grants(session, actor, access.ALLOWED[access.Permission.manage_faq])
    rows = await session.execute(select(Place.id, Place.community_id).where(Place.id.in_(places)))
    return sorted({community_id or place_id for place_id, community_id in rows})


async def faq_entries(session: AsyncSession, actor: audit.Actor, limit: int = 20) -> list[FaqEntry]:
    communities = await faq_communities(session, actor)
    return list(await session.scalars(select(FaqEntry).where(FaqEntry.community_id.in_(communities)).order_by(FaqEntry.id.desc()).limit(limit)))


async def delete_faq(session: AsyncSession, actor: audit.Actor, entry_id: int) -> None:
    entry = await session.get(FaqEntry, entry_id)
    if entry is None:
        raise DomainError(NO_SUCH_ENTRY)
    await access.require(session, actor, access.Permission.manage_faq, await _community(session, entry.community_id))
    await session.delete(entry)
    await audit.record(session, actor, "delete_faq", f"faq:{entry_id}")


# --- deadlines ----------------------------------------------------------------------------


async def due_reminders(session: AsyncSession, now: datetime, after: timedelta) -> list[Question]:
    """Questions waiting longer than `after` whose grid workers were not reminded yet; marked now."""
    due = list(
        await session.scalars(
            select(Question).where(Question.status == QuestionStatus.waiting, Question.reminded_at.is_(None), Question.created_at <= now - after).order_by(Question.id)
        )
    )
    for question in due:
        question.reminded_at = now
    return due


async def due_escalations(session: AsyncSession, now: datetime, after: timedelta) -> list[Question]:
    """Questions unanswered after `after` and not yet escalated; marked now, and open to admins.
    One a worker took and left unanswered goes back to the queue, so it is not stuck with them."""
    due = list(
        await session.scalars(
            select(Question).where(
                Question.status.in_(OPEN), Question.first_answered_at.is_(None), Question.escalated_at.is_(None), Question.created_at <= now - after
            ).order_by(Question.id)
        )
    )
    for question in due:
        question.escalated_at = now
        question.status, question.claimed_by, question.claimed_at = QuestionStatus.waiting, None, None
    return due


async def grid_workers(session: AsyncSession, question: Question) -> list[int]:
    return list(await session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == Role.grid_worker, RoleGrant.place_id == question.grid_id).distinct()))


async def admins(session: AsyncSession, question: Question) -> list[int]:
    building = await session.get(Place, question.building_id)
    assert building is not None
    return list(
        await session.scalars(select(RoleGrant.person_id).where(RoleGrant.role == Role.admin, RoleGrant.place_id.in_(access.covering_ids(building))).distinct())
    )


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerFigures:
    person_id: int
    name: str
    answered: int
    mean_wait_hours: float
    ratings: int
    mean_rating: float | None


@dataclass(frozen=True)
class QuestionFigures:
    asked: int  # to a person or answered by the FAQ
    self_served: int  # answered by the FAQ or a past answer
    answered: int
    per_worker: list[WorkerFigures]


async def figures(session: AsyncSession, start: datetime, end: datetime, community_id: int | None = None) -> QuestionFigures:
    """Questions asked in [start, end): how many, how many the FAQ answered, and per grid worker
    the questions they answered first, the mean wait for that answer, and the ratings."""
    period = [Question.created_at >= start, Question.created_at < end]
    if community_id is not None:
        period.append(Question.community_id == community_id)
    counts = dict(
        (status, n) for status, n in await session.execute(select(Question.status, func.count()).where(*period).group_by(Question.status))
    )
    rows = await session.execute(
        select(Question.answered_by, Person.display_name, Question.created_at, Question.first_answered_at, Question.rating)
        .join(Person, Person.id == Question.answered_by)
        .where(*period, Question.first_answered_at.is_not(None))
        .order_by(Question.answered_by)
    )
    by_worker: dict[int, list[tuple[str, float, int | None]]] = {}
    for person_id, name, asked, answered, rating in rows:
        by_worker.setdefault(person_id, []).append((name, (answered - asked).total_seconds() / 3600, rating))
    per_worker = []
    for person_id, items in by_worker.items():
        ratings = [rating for _, _, rating in items if rating is not None]
        per_worker.append(
            WorkerFigures(person_id, items[0][0], len(items), statistics.mean(w for _, w, _ in items), len(ratings), statistics.mean(ratings) if ratings else None)
        )
    return QuestionFigures(sum(counts.values()), counts.get(QuestionStatus.self_served, 0), sum(len(v) for v in by_worker.values()), per_worker)

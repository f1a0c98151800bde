"""Plans (方案共定, 改造共管): an admin drafts a compound's renovation plan item by item,
publishes it for public notice (公示), answers objections and comments, and adopts it once the
notice has run; admins and grid workers then post works progress and works notices; residents
of the affected buildings confirm completed items (完工确认).

Who hears what: the compound's residents follow its plan (publication, adoption, progress)
unless they muted it; works notices and acceptance questions go to the affected buildings;
objections go to the compound's admins. Every message goes through the outbox in the
transaction of the change. The lifecycle is in storage.models.PlanStatus and ItemStatus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.categories import Category
from bot.delivery import outbox
from bot.i18n import N_
from bot.replies import Reply
from bot.services import access, audit, places, plan_links
from bot.services.errors import DomainError
from bot.services.text import compact
from storage.db import upsert_insert
from storage.models import (
    AcceptanceAnswer,
    FeedbackKind,
    Household,
    ItemClass,
    ItemStatus,
    Membership,
    Place,
    PlaceKind,
    Plan,
    PlanFeedback,
    PlanItem,
    PlanItemBuilding,
    PlanMute,
    PlanStatus,
    ProgressPost,
    Role,
    RoleGrant,
    utcnow,
)

NO_SUCH_PLAN = N_("This plan no longer exists, or is not yours to see.")
NO_SUCH_ITEM = N_("This item no longer exists, or is not yours to see.")
NOT_A_DRAFT = N_("Only a draft can be changed; this plan is already published.")
NO_ITEMS = N_("The plan has no items yet: add one before publishing.")
NOT_IN_NOTICE = N_("The public notice of this plan is over: objections and comments are closed.")
NOT_ENDED = N_("The plan can be adopted once its public notice has ended.")
NOT_ADOPTED = N_("Works can be followed once the plan is adopted.")
NOT_RESIDENT = N_("Only residents of the compound can do this. Join your household first with /start.")
NOT_AFFECTED = N_("Only residents of the buildings this item concerns are asked about it.")
NOT_COMPLETED = N_("This item is not waiting for residents' confirmation.")
ALREADY_ANSWERED = N_("This has been answered already.")
BAD_PERCENT = N_("Progress is a whole number from 0 to 100.")
NOT_IN_COMPOUND = N_("{name} is not a building of this compound.")
MAX_TEXT_LENGTH = 2000


@dataclass(frozen=True)
class ItemDraft:
    item_class: ItemClass
    title: str
    category: str = ""
    description: str = ""
    funding_government: Decimal = Decimal(0)
    funding_utility: Decimal = Decimal(0)
    funding_residents: Decimal = Decimal(0)
    funding_others: Decimal = Decimal(0)
    building_ids: tuple[int, ...] = ()
    starts_on: date | None = None
    ends_on: date | None = None


# --- who ------------------------------------------------------------------------------------




async def managed_compounds(session: AsyncSession, actor: audit.Actor) -> list[Place]:
    """The compounds whose plans this actor may manage."""
    query = select(Place).where(Place.kind == PlaceKind.compound, access.allowed_places(actor, access.Permission.manage_plans, Place))
    return list(await session.scalars(query.order_by(Place.id).limit(50)))


def _residents(compound_id: int) -> Select[tuple[int]]:
    return select(Membership.person_id).join(Household, Household.id == Membership.household_id).where(Household.compound_id == compound_id).distinct()


def _building_residents(building_ids: Sequence[int]) -> Select[tuple[int]]:
    return select(Membership.person_id).join(Household, Household.id == Membership.household_id).where(Household.building_id.in_(building_ids)).distinct()


def _followers(plan: Plan, people: Select[tuple[int]]) -> Select[tuple[int]]:
    """Of these people, those who did not mute the plan."""
    muted = select(PlanMute.person_id).where(PlanMute.plan_id == plan.id)
    inner = people.subquery()
    return select(inner.c.person_id).where(inner.c.person_id.not_in(muted))


def _admins(compound: Place) -> Select[tuple[int]]:
    return select(RoleGrant.person_id).where(RoleGrant.role == Role.admin, RoleGrant.place_id.in_(access.covering_ids(compound))).distinct()


async def _is_resident(session: AsyncSession, person_id: int, compound_id: int) -> bool:
    query = select(Membership.id).join(Household, Household.id == Membership.household_id).where(Membership.person_id == person_id, Household.compound_id == compound_id)
    return await session.scalar(query.limit(1)) is not None


async def _lives_in(session: AsyncSession, person_id: int, building_ids: Sequence[int]) -> bool:
    query = select(Membership.id).join(Household, Household.id == Membership.household_id).where(Membership.person_id == person_id, Household.building_id.in_(building_ids))
    return await session.scalar(query.limit(1)) is not None


async def notify(session: AsyncSession, people: Select[tuple[int]], reply: Reply, source: str) -> int:
    return await outbox.enqueue_to_people(session, people, reply, source=source)


# --- reading --------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, plan_id: int) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise DomainError(NO_SUCH_PLAN)
    return plan


async def get_item(session: AsyncSession, item_id: int) -> PlanItem:
    item = await session.get(PlanItem, item_id)
    if item is None:
        raise DomainError(NO_SUCH_ITEM)
    return item


async def items_of(session: AsyncSession, plan: Plan) -> list[PlanItem]:
    return list(await session.scalars(select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.position)))


async def building_names(session: AsyncSession, item: PlanItem) -> list[str]:
    ids = [b.building_id for b in item.buildings]
    return list(await session.scalars(select(Place.name).where(Place.id.in_(ids)).order_by(Place.id))) if ids else []


async def may_manage(session: AsyncSession, actor: audit.Actor, plan: Plan) -> bool:
    return await access.is_allowed(session, actor, access.Permission.manage_plans, await session.get(Place, plan.compound_id))


async def may_post_progress(session: AsyncSession, actor: audit.Actor, plan: Plan) -> bool:
    return await access.is_allowed(session, actor, access.Permission.post_plan_progress, await session.get(Place, plan.compound_id))


async def visible_plans(session: AsyncSession, actor: audit.Actor) -> list[Plan]:
    """Published plans of the compounds the person lives in, and every plan (drafts too) of
    the compounds they manage."""
    assert actor.person_id is not None
    lived = select(Household.compound_id).join(Membership, Membership.household_id == Household.id).where(Membership.person_id == actor.person_id)
    published = select(Plan.id).where(Plan.compound_id.in_(lived), Plan.status != PlanStatus.draft)
    managed = [c.id for c in await managed_compounds(session, actor)]
    query = select(Plan).where((Plan.id.in_(published)) | Plan.compound_id.in_(managed)).order_by(Plan.id.desc()).limit(10)
    return list(await session.scalars(query))


async def is_muted(session: AsyncSession, plan: Plan, person_id: int) -> bool:
    return await session.get(PlanMute, (plan.id, person_id)) is not None


# --- drafting -------------------------------------------------------------------------------


async def create_plan(session: AsyncSession, actor: audit.Actor, compound_id: int, title: str) -> Plan:
    compound = await places.get_place(session, compound_id, PlaceKind.compound)
    if compound is None:
        raise places.no_such_place(PlaceKind.compound, compound_id)
    await access.require(session, actor, access.Permission.manage_plans, compound)
    plan = Plan(compound_id=compound.id, title=title.strip()[:200], created_by=actor.person_id)
    session.add(plan)
    await session.flush()
    await audit.record(session, actor, "create_plan", f"plan:{plan.id}", compound=compound.id)
    return plan


async def buildings_named(session: AsyncSession, compound_id: int, names: Sequence[str]) -> list[int]:
    """Building ids from names as people type them (1栋, １栋); every building for 全部/all."""
    buildings = {compact(name): place_id for place_id, name in await session.execute(
        select(Place.id, Place.name).where(Place.compound_id == compound_id, Place.kind == PlaceKind.building).order_by(Place.id))}
    if not names or any(n.strip().lower() in ("全部", "all", "所有") for n in names):
        return list(buildings.values())
    ids = []
    for name in names:
        found = buildings.get(compact(name)) or buildings.get(compact(name + "栋"))
        if found is None:
            raise DomainError(NOT_IN_COMPOUND, name=name)
        ids.append(found)
    return list(dict.fromkeys(ids))


async def draft_to_change(session: AsyncSession, actor: audit.Actor, plan_id: int) -> Plan:
    """A draft plan this actor may add items to."""
    plan = await get_plan(session, plan_id)
    if not await may_manage(session, actor, plan):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if plan.status is not PlanStatus.draft:
        raise DomainError(NOT_A_DRAFT)
    return plan


async def add_item(session: AsyncSession, actor: audit.Actor, plan_id: int, draft: ItemDraft) -> PlanItem:
    plan = await draft_to_change(session, actor, plan_id)
    position = (await session.scalar(select(func.max(PlanItem.position)).where(PlanItem.plan_id == plan.id)) or 0) + 1
    item = PlanItem(
        plan_id=plan.id, position=position, item_class=draft.item_class, category=draft.category[:50], title=draft.title[:200],
        description=draft.description, funding_government=draft.funding_government, funding_utility=draft.funding_utility,
        funding_residents=draft.funding_residents, funding_others=draft.funding_others, starts_on=draft.starts_on, ends_on=draft.ends_on,
        buildings=[PlanItemBuilding(building_id=b) for b in draft.building_ids],
    )
    session.add(item)
    await session.flush()
    return item


# --- public notice --------------------------------------------------------------------------


async def publish(session: AsyncSession, actor: audit.Actor, plan_id: int, notice_days: int, message: Callable[[Plan], Reply]) -> int:
    """Open the public notice and tell the compound's residents `message(plan)`, which may name
    the notice's last day; returns how many chats."""
    plan = await get_plan(session, plan_id)
    if not await may_manage(session, actor, plan):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if plan.status is not PlanStatus.draft:
        raise DomainError(NOT_A_DRAFT)
    if not await items_of(session, plan):
        raise DomainError(NO_ITEMS)
    now = utcnow()
    plan.status, plan.published_at, plan.notice_ends_at = PlanStatus.notice, now, now + timedelta(days=notice_days)
    await audit.record(session, actor, "publish_plan", f"plan:{plan.id}", notice_days=notice_days)
    return await notify(session, _residents(plan.compound_id), message(plan), f"plan:{plan.id}")


async def give_feedback(session: AsyncSession, actor: audit.Actor, plan_id: int, item_id: int | None, kind: FeedbackKind, text: str) -> PlanFeedback:
    """A resident objects or comments during the notice; `send_feedback` then tells the admins."""
    plan = await get_plan(session, plan_id)
    assert actor.person_id is not None
    if not await _is_resident(session, actor.person_id, plan.compound_id):
        raise DomainError(NOT_RESIDENT)
    if plan.status is not PlanStatus.notice:
        raise DomainError(NOT_IN_NOTICE)
    if item_id is not None and (await get_item(session, item_id)).plan_id != plan.id:
        raise DomainError(NO_SUCH_ITEM)
    feedback = PlanFeedback(plan_id=plan.id, item_id=item_id, person_id=actor.person_id, kind=kind, text=text[:MAX_TEXT_LENGTH])
    session.add(feedback)
    await session.flush()
    return feedback


async def send_feedback(session: AsyncSession, feedback: PlanFeedback, message: Reply) -> int:
    plan = await get_plan(session, feedback.plan_id)
    compound = await session.get(Place, plan.compound_id)
    assert compound is not None
    return await notify(session, _admins(compound), message, f"plan:{plan.id}:feedback")


async def feedback_to_answer(session: AsyncSession, actor: audit.Actor, feedback_id: int) -> PlanFeedback:
    """An objection or comment this actor may answer, not answered yet."""
    feedback = await session.get(PlanFeedback, feedback_id)
    if feedback is None:
        raise DomainError(NO_SUCH_PLAN)
    if not await may_manage(session, actor, await get_plan(session, feedback.plan_id)):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if feedback.answer is not None:
        raise DomainError(ALREADY_ANSWERED)
    return feedback


async def answer_feedback(session: AsyncSession, actor: audit.Actor, feedback_id: int, text: str) -> PlanFeedback:
    feedback = await feedback_to_answer(session, actor, feedback_id)
    feedback.answer, feedback.answered_by, feedback.answered_at = text[:MAX_TEXT_LENGTH], actor.person_id, utcnow()
    await audit.record(session, actor, "answer_plan_feedback", f"plan_feedback:{feedback.id}")
    return feedback


async def tell(session: AsyncSession, person_id: int, reply: Reply, source: str) -> int:
    """One person, on the channel they came to last."""
    return await outbox.enqueue_to_people(session, [person_id], reply, source=source)


@dataclass(frozen=True)
class FeedbackCounts:
    objections: int
    comments: int
    unanswered: int


async def feedback_counts(session: AsyncSession, plan: Plan) -> FeedbackCounts:
    rows = dict((kind, count) for kind, count in await session.execute(
        select(PlanFeedback.kind, func.count()).where(PlanFeedback.plan_id == plan.id).group_by(PlanFeedback.kind)))
    unanswered = await session.scalar(select(func.count()).where(PlanFeedback.plan_id == plan.id, PlanFeedback.answer.is_(None)))
    return FeedbackCounts(rows.get(FeedbackKind.objection, 0), rows.get(FeedbackKind.comment, 0), unanswered or 0)


async def end_notice(session: AsyncSession, plan: Plan, summary: Reply) -> int:
    """The notice has run: the plan waits for adoption, and its admins get `summary`."""
    plan.status = PlanStatus.notice_ended
    compound = await session.get(Place, plan.compound_id)
    assert compound is not None
    return await notify(session, _admins(compound), summary, f"plan:{plan.id}:summary")


async def notices_due(session: AsyncSession, now: datetime) -> list[Plan]:
    query = select(Plan).where(Plan.status == PlanStatus.notice, Plan.notice_ends_at <= now).order_by(Plan.id).limit(100)
    return list(await session.scalars(query.with_for_update(skip_locked=True)))


async def adopt(session: AsyncSession, actor: audit.Actor, plan_id: int, message: Reply) -> int:
    plan = await get_plan(session, plan_id)
    if not await may_manage(session, actor, plan):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if plan.status is not PlanStatus.notice_ended:
        raise DomainError(NOT_ENDED)
    plan.status, plan.adopted_at = PlanStatus.adopted, utcnow()
    await audit.record(session, actor, "adopt_plan", f"plan:{plan.id}")
    return await notify(session, _followers(plan, _residents(plan.compound_id)), message, f"plan:{plan.id}")


# --- works ----------------------------------------------------------------------------------


async def works_item(session: AsyncSession, actor: audit.Actor, item_id: int) -> tuple[Plan, PlanItem]:
    """An item of an adopted plan this actor may post progress and works notices for."""
    item = await get_item(session, item_id)
    plan = await get_plan(session, item.plan_id)
    if not await may_post_progress(session, actor, plan):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if plan.status is not PlanStatus.adopted:
        raise DomainError(NOT_ADOPTED)
    return plan, item


async def works_items(session: AsyncSession, actor: audit.Actor) -> list[PlanItem]:
    """Items of adopted plans this actor may post progress for, not yet completed."""
    compounds = select(Place.id).where(Place.kind == PlaceKind.compound, access.allowed_places(actor, access.Permission.post_plan_progress, Place))
    query = (
        select(PlanItem).join(Plan, Plan.id == PlanItem.plan_id)
        .where(Plan.status == PlanStatus.adopted, Plan.compound_id.in_(compounds), PlanItem.status.in_((ItemStatus.planned, ItemStatus.in_works)))
        .order_by(Plan.id, PlanItem.position).limit(30)
    )
    return list(await session.scalars(query))


async def post_progress(
    session: AsyncSession, actor: audit.Actor, item_id: int, percent: int, note: str, photo_file_id: str | None, message: Reply
) -> ProgressPost:
    """Record progress and tell the compound's followers. 100 % completes the item: see `complete`."""
    plan, item = await works_item(session, actor, item_id)
    if not 0 <= percent <= 100:
        raise DomainError(BAD_PERCENT)
    if item.status not in (ItemStatus.planned, ItemStatus.in_works):
        raise DomainError(NOT_COMPLETED)
    post = ProgressPost(item_id=item.id, author_id=actor.person_id, progress=percent, note=note[:MAX_TEXT_LENGTH], photo_file_id=photo_file_id)
    session.add(post)
    item.progress, item.status = percent, ItemStatus.in_works
    await session.flush()
    await audit.record(session, actor, "plan_progress", f"plan_item:{item.id}", progress=percent)
    await notify(session, _followers(plan, _residents(plan.compound_id)), message, f"plan_item:{item.id}:progress")
    return post


async def complete(session: AsyncSession, item: PlanItem, acceptance_days: int, question: Reply) -> int:
    """The item is done by the works: its buildings' residents are asked (完工确认)."""
    item.status, item.progress = ItemStatus.completed, 100
    item.acceptance_ends_at = utcnow() + timedelta(days=acceptance_days)
    buildings = [b.building_id for b in item.buildings]
    return await notify(session, _building_residents(buildings), question, f"plan_item:{item.id}:acceptance") if buildings else 0


async def send_works_notice(session: AsyncSession, actor: audit.Actor, item_id: int, message: Reply) -> int:
    """A works notice (停水, 停电) to the residents of the item's buildings who follow the plan."""
    plan, item = await works_item(session, actor, item_id)
    buildings = [b.building_id for b in item.buildings]
    await audit.record(session, actor, "plan_works_notice", f"plan_item:{item.id}")
    return await notify(session, _followers(plan, _building_residents(buildings)), message, f"plan_item:{item.id}:works") if buildings else 0


async def set_muted(session: AsyncSession, actor: audit.Actor, plan_id: int, muted: bool) -> None:
    plan = await get_plan(session, plan_id)
    assert actor.person_id is not None
    if not await _is_resident(session, actor.person_id, plan.compound_id):
        raise DomainError(NOT_RESIDENT)
    if muted:
        await session.execute(upsert_insert(session)(PlanMute).values(plan_id=plan.id, person_id=actor.person_id).on_conflict_do_nothing())
    else:
        await session.execute(delete(PlanMute).where(PlanMute.plan_id == plan.id, PlanMute.person_id == actor.person_id))


# --- acceptance -----------------------------------------------------------------------------


async def answer_acceptance(session: AsyncSession, actor: audit.Actor, item_id: int, done: bool, note: str = "") -> AcceptanceAnswer:
    """A resident of an affected building says whether the item is done; one answer each.
    "Not done" goes on to the reports feature through plan_links."""
    item = await get_item(session, item_id)
    assert actor.person_id is not None
    if item.status is not ItemStatus.completed:
        raise DomainError(NOT_COMPLETED)
    if not await _lives_in(session, actor.person_id, [b.building_id for b in item.buildings]):
        raise DomainError(NOT_AFFECTED)
    if await session.get(AcceptanceAnswer, (item.id, actor.person_id)) is not None:
        raise DomainError(ALREADY_ANSWERED)
    answer = AcceptanceAnswer(item_id=item.id, person_id=actor.person_id, done=done, note=note[:MAX_TEXT_LENGTH])
    session.add(answer)
    await session.flush()
    return answer


async def add_acceptance_detail(
    session: AsyncSession, actor: audit.Actor, item_id: int, *, rating: int | None = None, note: str | None = None,
    categories: Mapping[str, Category] | None = None, timezone: str = "Asia/Shanghai",
) -> AcceptanceAnswer:
    """The rating (1–5), or the note of a "not done" answer, given after the answer itself.
    A note completes a "not done" answer: a problem report is opened with it (`categories`
    are the report categories; needed with a note)."""
    assert actor.person_id is not None
    answer = await session.get(AcceptanceAnswer, (item_id, actor.person_id))
    if answer is None:
        raise DomainError(NOT_COMPLETED)
    if rating is not None:
        answer.rating = max(1, min(5, rating))
    if note is not None:
        answer.note = note[:MAX_TEXT_LENGTH]
        if not answer.done and answer.report_id is None:
            assert categories is not None
            item = await get_item(session, item_id)
            answer.report_id = await plan_links.open_report_for_unfinished_item(session, actor, item, answer, categories, timezone)
    return answer


@dataclass(frozen=True)
class AcceptanceTally:
    confirmed: int
    not_done: int
    average_rating: Decimal | None

    @property
    def answered(self) -> int:
        return self.confirmed + self.not_done

    def accepted(self, share: float) -> bool:
        """Accepted when at least `share` of those who answered confirm (and someone did)."""
        return self.answered > 0 and Fraction(self.confirmed, self.answered) >= Fraction(str(share))


async def tally(session: AsyncSession, item: PlanItem) -> AcceptanceTally:
    rows = dict((done, count) for done, count in await session.execute(
        select(AcceptanceAnswer.done, func.count()).where(AcceptanceAnswer.item_id == item.id).group_by(AcceptanceAnswer.done)))
    average = await session.scalar(select(func.avg(AcceptanceAnswer.rating)).where(AcceptanceAnswer.item_id == item.id))
    return AcceptanceTally(rows.get(True, 0), rows.get(False, 0), Decimal(str(average)).quantize(Decimal("0.1")) if average is not None else None)


async def acceptances_due(session: AsyncSession, now: datetime) -> list[PlanItem]:
    query = select(PlanItem).where(PlanItem.status == ItemStatus.completed, PlanItem.acceptance_ends_at <= now).order_by(PlanItem.id).limit(100)
    return list(await session.scalars(query.with_for_update(skip_locked=True)))


async def decide_acceptance(session: AsyncSession, item: PlanItem, accepted: bool, result: Reply) -> None:
    """The residents had their time (see `tally`): the item is accepted or not; the admins hear
    `result`; a plan whose items are all decided is closed."""
    item.status = ItemStatus.accepted if accepted else ItemStatus.not_accepted
    plan = await get_plan(session, item.plan_id)
    open_items = await session.scalar(select(func.count()).where(
        PlanItem.plan_id == plan.id, PlanItem.status.not_in((ItemStatus.accepted, ItemStatus.not_accepted))))
    if not open_items:
        plan.status = PlanStatus.closed
    compound = await session.get(Place, plan.compound_id)
    assert compound is not None
    await notify(session, _admins(compound), result, f"plan_item:{item.id}:accepted")


async def buildings_of(session: AsyncSession, compound_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(building id, compound name, building name) of these compounds, for a menu."""
    compound = aliased(Place)
    rows = await session.execute(
        select(Place.id, compound.name, Place.name).join(compound, compound.id == Place.compound_id)
        .where(Place.kind == PlaceKind.building, Place.compound_id.in_(compound_ids)).order_by(Place.id).limit(40)
    )
    return [(building_id, compound_name, name) for building_id, compound_name, name in rows]

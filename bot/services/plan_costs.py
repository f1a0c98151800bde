"""Shared costs of a plan item (资金共筹) in the database: the residents' part of an item (its
`funding_residents`) is shared among the households of its buildings by bot.services.cost_shares,
with each building's floor coefficients; households see their share and how it was computed,
pledge (认缴) or dispute it; building leaders and admins follow pledges against the target."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.replies import Reply
from bot.services import access, audit, cost_shares, plans
from bot.services import places as places_
from bot.services.errors import DomainError
from storage.models import CostShare, FloorCoefficient, Household, Membership, Place, PlaceKind, PlanItem, PlanItemBuilding, ShareStatus, utcnow

NO_RESIDENTS_PART = N_("This item has no part paid by residents, so there is nothing to share.")
ALREADY_PLEDGED = N_("Households have pledged already: the shares can no longer be computed again.")
NO_SUCH_SHARE = N_("This share no longer exists, or is not your household's.")


async def coefficients_of(session: AsyncSession, building_id: int) -> dict[int, Decimal]:
    rows = dict((floor, c) for floor, c in await session.execute(select(FloorCoefficient.floor, FloorCoefficient.coefficient).where(FloorCoefficient.building_id == building_id)))
    return rows or dict(cost_shares.DEFAULT_COEFFICIENTS)


async def building_to_set(session: AsyncSession, actor: audit.Actor, building_id: int) -> Place:
    """A building whose coefficients this actor may set."""
    building = await places_.get_place(session, building_id, PlaceKind.building)
    if building is None:
        raise places_.no_such_place(PlaceKind.building, building_id)
    await access.require(session, actor, access.Permission.manage_plans, building)
    return building


async def set_coefficients(session: AsyncSession, actor: audit.Actor, building_id: int, table: dict[int, Decimal]) -> None:
    building = await building_to_set(session, actor, building_id)
    await session.execute(delete(FloorCoefficient).where(FloorCoefficient.building_id == building.id))
    session.add_all(FloorCoefficient(building_id=building.id, floor=floor, coefficient=c) for floor, c in table.items())
    await audit.record(session, actor, "set_floor_coefficients", f"building:{building.id}", coefficients=cost_shares.format_coefficients(table))


async def split_item(session: AsyncSession, actor: audit.Actor, item_id: int) -> cost_shares.Split:
    """Compute and keep every household's share of the item's residents' part; computing again
    replaces the shares, until a household has pledged."""
    item = await plans.get_item(session, item_id)
    plan = await plans.get_plan(session, item.plan_id)
    if not await plans.may_manage(session, actor, plan):
        raise access.PermissionDenied(access.NOT_ALLOWED)
    if item.funding_residents <= 0:
        raise DomainError(NO_RESIDENTS_PART)
    if await session.scalar(select(func.count()).where(CostShare.item_id == item.id, CostShare.status != ShareStatus.open)):
        raise DomainError(ALREADY_PLEDGED)
    households = list(await session.execute(
        select(Household.id, Household.building_id, Household.floor, Household.area)
        .where(Household.building_id.in_([b.building_id for b in item.buildings])).order_by(Household.id)))
    by_building = {building_id: await coefficients_of(session, building_id) for building_id in {row.building_id for row in households}}
    bases = [cost_shares.HouseholdBasis(h.id, h.floor, h.area if h.area > 0 else None, h.building_id) for h in households]
    result = cost_shares.split(bases, total=item.budget, subsidy=item.budget - item.funding_residents, by_building=by_building)
    await session.execute(delete(CostShare).where(CostShare.item_id == item.id))
    session.add_all(
        CostShare(item_id=item.id, household_id=s.key, floor=s.floor, area=s.area, coefficient=s.coefficient, price_per_m2=result.price_per_m2, amount=s.amount)
        for s in result.shares
    )
    await session.flush()
    await audit.record(session, actor, "split_costs", f"plan_item:{item.id}", residents_part=str(result.residents_part), households=len(result.shares))
    return result


async def notify_households(session: AsyncSession, item: PlanItem, message: Reply) -> int:
    """Tell the members of every household with a share that it is there to see."""
    people = select(Membership.person_id).join(CostShare, CostShare.household_id == Membership.household_id).where(CostShare.item_id == item.id).distinct()
    return await plans.notify(session, people, message, f"plan_item:{item.id}:shares")


@dataclass(frozen=True)
class HouseholdShare:
    share: CostShare
    item: PlanItem
    household_id: int


async def shares_of(session: AsyncSession, person_id: int) -> list[HouseholdShare]:
    rows = await session.execute(
        select(CostShare, PlanItem).join(PlanItem, PlanItem.id == CostShare.item_id)
        .join(Membership, Membership.household_id == CostShare.household_id)
        .where(Membership.person_id == person_id).order_by(CostShare.id).limit(20)
    )
    return [HouseholdShare(share, item, share.household_id) for share, item in rows]


async def answer_share(session: AsyncSession, actor: audit.Actor, share_id: int, status: ShareStatus, note: str = "") -> CostShare:
    """A member of the household pledges (认缴) or disputes its share; a later answer replaces
    an earlier one."""
    share = await session.get(CostShare, share_id)
    member = share and await session.scalar(
        select(Membership.id).where(Membership.household_id == share.household_id, Membership.person_id == actor.person_id))
    if share is None or member is None:
        raise DomainError(NO_SUCH_SHARE)
    share.status, share.note, share.answered_by, share.answered_at = status, note[:2000], actor.person_id, utcnow()
    return share


@dataclass(frozen=True)
class PledgeProgress:
    item: PlanItem
    target: Decimal
    pledged: Decimal
    households: int
    pledged_households: int
    disputed_households: int


async def pledge_progress(session: AsyncSession, actor: audit.Actor, item_id: int) -> PledgeProgress:
    """Pledges against the target, for the compound's admins and the buildings' leaders."""
    item = await plans.get_item(session, item_id)
    if await session.scalar(_followed(actor).where(PlanItem.id == item.id).limit(1)) is None:
        raise access.PermissionDenied(access.NOT_ALLOWED)
    counts = {status: (count, total) for status, count, total in await session.execute(
        select(CostShare.status, func.count(), func.coalesce(func.sum(CostShare.amount), 0)).where(CostShare.item_id == item.id).group_by(CostShare.status))}
    households = sum(count for count, _ in counts.values())
    pledged_count, pledged = counts.get(ShareStatus.pledged, (0, Decimal(0)))
    return PledgeProgress(item, item.funding_residents, Decimal(pledged).quantize(cost_shares.FEN), households, pledged_count, counts.get(ShareStatus.disputed, (0, 0))[0])


def _followed(actor: audit.Actor) -> Select[tuple[PlanItem]]:
    """Items with shares whose pledges this actor may follow: through any of the items'
    buildings, which a leader's building role and an admin's wider role both cover."""
    return (
        select(PlanItem).join(PlanItemBuilding, PlanItemBuilding.item_id == PlanItem.id).join(Place, Place.id == PlanItemBuilding.building_id)
        .where(PlanItem.id.in_(select(CostShare.item_id)), access.allowed_places(actor, access.Permission.see_pledges, Place))
    )


async def followed_items(session: AsyncSession, actor: audit.Actor) -> list[PlanItem]:
    return list(await session.scalars(_followed(actor).distinct().order_by(PlanItem.id).limit(20)))

"""Plans on both databases (SQLite and PostgreSQL): the notice sweep once and only once, shares
that add up exactly with a building's own coefficients, and the uniqueness rules the schema
keeps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import scheduling
from bot.config import Settings
from bot.demo import sample_households
from bot.replies import Reply
from bot.services import access, audit, people, places, plan_costs, plans
from storage.models import AcceptanceAnswer, CostShare, ItemClass, OutboxDelivery, Place, PlaceKind, Plan, PlanStatus, Role, utcnow

OPERATOR = audit.COMMAND_LINE


async def drafted(session: AsyncSession) -> Plan:
    await places.import_households(session, sample_households(), actor=OPERATOR)
    compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound))
    assert compound is not None
    plan = await plans.create_plan(session, OPERATOR, compound.id, "加装电梯")
    building = await plans.buildings_named(session, compound.id, ["１栋"])
    await plans.add_item(session, OPERATOR, plan.id, plans.ItemDraft(ItemClass.improvement, "1栋加装电梯", funding_government=Decimal("200000"),
                                                                    funding_residents=Decimal("333333.33"), building_ids=tuple(building)))
    return plan


async def test_the_notice_ends_once_and_shares_add_up(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        plan = await drafted(session)
        admin = await people.get_or_create_person(session, people.TELEGRAM, "1004", "陈主任")
        await access.grant_role(session, admin.id, Role.admin, access.Scope(PlaceKind.compound, plan.compound_id), actor=OPERATOR)
        await plans.publish(session, OPERATOR, plan.id, 7, lambda published: Reply("公示"))
        [item] = await plans.items_of(session, plan)
        building_id = item.buildings[0].building_id
        await plan_costs.set_coefficients(session, OPERATOR, building_id, {**{f: Decimal(0) for f in (1, 2)}, 3: Decimal("0.5"), 4: Decimal(1), 5: Decimal(1), 6: Decimal(2)})
        result = await plan_costs.split_item(session, OPERATOR, item.id)
        plan_id, item_id = plan.id, item.id
    assert sum(s.amount for s in result.shares) == Decimal("333333.33")

    settings = Settings(_env_file=None)
    assert (await scheduling.run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=6)))["plan-notices"] == 0
    assert (await scheduling.run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=8)))["plan-notices"] == 1
    assert (await scheduling.run_sweeps(sessionmaker, settings, now=utcnow() + timedelta(days=9)))["plan-notices"] == 0
    async with sessionmaker() as session:
        assert (await session.get(Plan, plan_id)).status is PlanStatus.notice_ended  # type: ignore[union-attr]
        shares = list(await session.scalars(select(CostShare).where(CostShare.item_id == item_id)))
        assert sum(s.amount for s in shares) == Decimal("333333.33") and len(shares) == 24
        assert {s.amount for s in shares if s.floor <= 2} == {Decimal("0.00")}
        assert {s.coefficient for s in shares if s.floor == 6} == {Decimal("2.00")}
        summaries = await session.scalar(select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.chat_id == "1004"))
        assert summaries == 1  # the admin's summary, queued once

    async with sessionmaker() as session:
        session.add(CostShare(item_id=item_id, household_id=shares[0].household_id, floor=1, area=Decimal(1), coefficient=Decimal(0), price_per_m2=Decimal(0), amount=Decimal(0)))
        with pytest.raises(IntegrityError):
            await session.commit()
    async with sessionmaker() as session:
        session.add_all([AcceptanceAnswer(item_id=item_id, person_id=admin.id, done=True), AcceptanceAnswer(item_id=item_id, person_id=admin.id, done=False)])
        with pytest.raises(IntegrityError):
            await session.commit()


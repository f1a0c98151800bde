"""One permission check, in the services: each role is allowed within its scope and refused,
with a readable error, outside it (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import sample_households
from bot.services import access, audit, group_chats, invites, people, places
from bot.services.households_import import HouseholdRow
from storage.models import GroupChat, Household, Place, PlaceKind, Role

Sessions = async_sessionmaker[AsyncSession]


def other_community() -> list[HouseholdRow]:
    """A second community in the same street, with one building."""
    return [HouseholdRow("冷水滩区", "梅湾街道", "凤凰社区", "凤凰小区", "1栋", "1单元", floor, f"{floor}01", sample_households()[0].area) for floor in (1, 2)]


async def seed(session: AsyncSession) -> dict[str, Place]:
    await places.import_households(session, sample_households() + other_community(), actor=audit.COMMAND_LINE)
    communities = {p.name: p for p in await session.scalars(select(Place).where(Place.kind == PlaceKind.community))}
    ours = communities["通化街社区"]
    buildings = {p.name: p for p in await session.scalars(select(Place).where(Place.kind == PlaceKind.building, places.within(ours, Place)))}
    return {"ours": ours, "theirs": communities["凤凰社区"], "b1": buildings["1栋"], "b2": buildings["2栋"]}


async def person_with(session: AsyncSession, external_id: str, role: Role | None = None, place: Place | None = None) -> audit.Actor:
    person = await people.get_or_create_person(session, people.TELEGRAM, external_id)
    if role is not None and place is not None:
        await access.grant_role(session, person.id, role, access.Scope(place.kind, place.id), actor=audit.COMMAND_LINE)
    return audit.Actor(people.TELEGRAM, person.id)


async def test_each_role_is_refused_outside_its_scope(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        p = await seed(session)
        theirs_building = await session.scalar(select(Place).where(Place.kind == PlaceKind.building, Place.community_id == p["theirs"].id))
        assert theirs_building is not None
        admin = await person_with(session, "1", Role.admin, p["ours"])
        grid = await person_with(session, "2", Role.grid_worker, p["ours"])
        volunteer = await person_with(session, "3", Role.volunteer, p["ours"])
        leader = await person_with(session, "4", Role.building_leader, p["b1"])
        resident = await person_with(session, "5")
        newcomer = await people.get_or_create_person(session, people.TELEGRAM, "6")
        household_in_b1 = await session.scalar(select(Household).where(places.within(p["b1"])).limit(1))
        assert household_in_b1 is not None

        allowed = [
            access.grant_role(session, newcomer.id, Role.volunteer, access.Scope(PlaceKind.community, p["ours"].id), actor=admin),
            invites.building_code(session, p["b2"].id, actor=grid),
            invites.household_code(session, household_in_b1.id, actor=admin),
            group_chats.link(session, leader, "-100", "1栋群", p["b1"]),
            group_chats.link(session, admin, "-101", "2栋群", p["b2"]),
        ]
        for call in allowed:
            await call

        refused = [
            access.grant_role(session, newcomer.id, Role.volunteer, access.Scope(PlaceKind.community, p["theirs"].id), actor=admin),
            access.grant_role(session, newcomer.id, Role.admin, access.Scope(PlaceKind.community, p["ours"].id), actor=grid),
            access.revoke_role(session, newcomer.id, Role.volunteer, access.Scope(PlaceKind.community, p["ours"].id), actor=leader),
            invites.building_code(session, theirs_building.id, actor=grid),
            invites.building_code(session, p["b1"].id, actor=volunteer),
            invites.household_code(session, household_in_b1.id, actor=leader),
            invites.building_code(session, p["b1"].id, actor=resident),
            group_chats.link(session, leader, "-102", "2栋群", p["b2"]),
            group_chats.link(session, grid, "-103", "1栋群", p["b1"]),
            group_chats.link(session, resident, "-104", "1栋群", p["b1"]),
        ]
        for call in refused:
            with pytest.raises(access.PermissionDenied) as refusal:
                await call
            assert "没有这个权限" in refusal.value.render("zh_CN")
        assert await session.scalar(select(func.count()).select_from(GroupChat)) == 2


async def test_a_community_grant_covers_every_place_within_and_nothing_outside(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        p = await seed(session)
        grid = await person_with(session, "7", Role.grid_worker, p["ours"])
        ours = list(await session.scalars(select(Household).where(places.within(p["ours"]))))
        theirs = list(await session.scalars(select(Household).where(places.within(p["theirs"]))))
        assert len(ours) == 72 and len(theirs) == 2
        assert all([await access.is_allowed(session, grid, access.Permission.print_invites, h) for h in ours])
        assert not any([await access.is_allowed(session, grid, access.Permission.print_invites, h) for h in theirs])
        assert await access.is_allowed(session, audit.COMMAND_LINE, access.Permission.manage_roles, p["theirs"])  # the operator

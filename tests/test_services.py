"""Domain services on a real database (SQLite, and PostgreSQL where configured)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import sample_households
from bot.scheduling import forget_old_updates
from bot.services import access, audit, invites, people, places
from bot.services.errors import DomainError
from bot.services.households_import import HouseholdRow
from storage.models import TREE_LEVELS, AuditEntry, Household, Membership, Place, PlaceKind, ProcessedUpdate, Role, utcnow

Sessions = async_sessionmaker[AsyncSession]


async def seeded(sessionmaker: Sessions, rows: list[HouseholdRow] | None = None) -> list[places.PlaceNode]:
    async with sessionmaker.begin() as session:
        await places.import_households(session, rows or sample_households(), actor=audit.COMMAND_LINE)
        return await places.list_places(session)


def ids_of(nodes: list[places.PlaceNode], kind: PlaceKind) -> list[int]:
    return [node.id for node in nodes if node.kind is kind]


ANOTHER_COMMUNITY = HouseholdRow("冷水滩区", "梅湾街道", "南津社区", "南津小区", "1栋", "1单元", 1, "101", Decimal("60"))


async def test_a_grant_covers_what_lies_within_its_place_and_nothing_else(sessionmaker: Sessions) -> None:
    nodes = await seeded(sessionmaker, [*sample_households(), ANOTHER_COMMUNITY])
    async with sessionmaker.begin() as session:
        worker = await people.get_or_create_person(session, people.TELEGRAM, "42", "李网格")
        leader = await people.get_or_create_person(session, people.TELEGRAM, "43", "楼栋长")
        community, other_community = ids_of(nodes, PlaceKind.community)
        building, other_building, *_, elsewhere = ids_of(nodes, PlaceKind.building)
        assert await access.grant_role(session, worker.id, Role.grid_worker, access.Scope(PlaceKind.community, community), actor=audit.COMMAND_LINE)
        assert await access.grant_role(session, leader.id, Role.building_leader, access.Scope(PlaceKind.building, building), actor=audit.COMMAND_LINE)
        as_worker, as_leader = audit.Actor(people.TELEGRAM, worker.id), audit.Actor(people.TELEGRAM, leader.id)

        async def allowed(actor: audit.Actor, permission: access.Permission, place_id: int) -> bool:
            place = await places.get_place(session, place_id)
            assert place is not None
            return await access.is_allowed(session, actor, permission, place)

        for building_id in ids_of(nodes, PlaceKind.building)[:-1]:
            assert await allowed(as_worker, access.Permission.print_invites, building_id)
        household = await places.get_household(session, ids_of(nodes, PlaceKind.household)[0])
        assert household is not None and await access.is_allowed(session, as_worker, access.Permission.print_invites, household)
        assert not await allowed(as_worker, access.Permission.print_invites, elsewhere)
        assert not await allowed(as_worker, access.Permission.print_invites, other_community)
        assert not await allowed(as_worker, access.Permission.manage_roles, community)  # an admin's, not a grid worker's

        assert await allowed(as_leader, access.Permission.link_group_chat, building)
        assert not await allowed(as_leader, access.Permission.link_group_chat, other_building)
        assert not await allowed(as_leader, access.Permission.link_group_chat, community)
        with pytest.raises(access.PermissionDenied):
            await invites.building_code(session, other_building, actor=as_leader)
        with pytest.raises(access.PermissionDenied):
            await access.grant_role(session, leader.id, Role.admin, access.Scope(PlaceKind.building, building), actor=as_worker)
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["import_households", "grant_role", "grant_role"]


async def test_only_the_operator_imports_households(sessionmaker: Sessions) -> None:
    nodes = await seeded(sessionmaker)
    async with sessionmaker.begin() as session:
        admin = await people.get_or_create_person(session, people.TELEGRAM, "45", "陈主任")
        community = ids_of(nodes, PlaceKind.community)[0]
        await access.grant_role(session, admin.id, Role.admin, access.Scope(PlaceKind.community, community), actor=audit.COMMAND_LINE)
        with pytest.raises(access.PermissionDenied):
            await places.import_households(session, [ANOTHER_COMMUNITY], actor=audit.Actor(people.TELEGRAM, admin.id))
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Household)) == len(sample_households())


async def test_scopes_must_exist_and_parse(sessionmaker: Sessions) -> None:
    nodes = await seeded(sessionmaker)
    for text in ("household:1", "city:1", "building:x", "building:0", "building:-3"):
        with pytest.raises(DomainError):
            access.Scope.parse(text)
    async with sessionmaker.begin() as session:
        person = await people.get_or_create_person(session, people.TELEGRAM, "44")
        community = ids_of(nodes, PlaceKind.community)[0]
        for scope in (f"building:{community}", "building:999", f"building:{2**31}", f"building:{10**20}"):
            with pytest.raises(DomainError) as refused:
                await access.grant_role(session, person.id, Role.admin, access.Scope.parse(scope), actor=audit.COMMAND_LINE)
            assert refused.value.render("en") == f"There is no building with id {scope.split(':')[1]}."


async def test_ids_beyond_the_databases_integers_name_nothing(sessionmaker: Sessions) -> None:
    await seeded(sessionmaker)
    async with sessionmaker() as session:
        for too_large in (2**31, 2**63, 10**20):
            assert await places.get_place(session, too_large) is None
            assert await places.get_household(session, too_large) is None
            with pytest.raises(DomainError):
                await invites.household_code(session, too_large, actor=audit.COMMAND_LINE)
        assert await places.get_place(session, 1) is not None and await places.get_household(session, 1) is not None


async def test_bulk_import_fills_every_ancestor_id_from_the_parent(sessionmaker: Sessions) -> None:
    await seeded(sessionmaker)
    more = [*sample_households()[:3], ANOTHER_COMMUNITY, HouseholdRow("零陵区", "徐家井街道", "潇湘门社区", "税务小区", "A栋", "1单元", 2, "201", Decimal("88.5"))]
    await seeded(sessionmaker, more)  # new places under existing ones, and a new district
    async with sessionmaker() as session:
        by_id = {place.id: place for place in await session.scalars(select(Place))}
        for place in by_id.values():
            parent = by_id.get(place.parent_id) if place.parent_id else None
            assert (parent.kind if parent else None) == (TREE_LEVELS[TREE_LEVELS.index(place.kind) - 1] if place.parent_id else None)
            for level in TREE_LEVELS[:-1]:
                assert place.ancestor_id(level) == expected_ancestor(parent, level), (place.name, level)
        households = list(await session.scalars(select(Household)))
        assert len(households) == len(sample_households()) + 2
        for household in households:
            unit = by_id[household.unit_id]
            assert unit.kind is PlaceKind.unit
            for level in TREE_LEVELS[:-1]:
                assert household.ancestor_id(level) == expected_ancestor(unit, level)


def expected_ancestor(parent: Place | None, level: PlaceKind) -> int | None:
    if parent is None:
        return None
    return parent.id if parent.kind is level else parent.ancestor_id(level)


async def test_a_household_code_is_claimed_once_even_when_redeemed_at_once(sessionmaker: Sessions) -> None:
    await seeded(sessionmaker)
    async with sessionmaker.begin() as session:
        code = await invites.household_code(session, 5, actor=audit.COMMAND_LINE)
        ids = [(await people.get_or_create_person(session, people.TELEGRAM, str(n))).id for n in (50, 51, 52)]

    async def redeem(person_id: int) -> bool:
        try:
            async with sessionmaker.begin() as session:
                await invites.redeem(session, code, person_id)
            return True
        except Exception:  # InviteError, or a write conflict the database reports to the loser
            return False

    results = await asyncio.gather(*(redeem(i) for i in ids))
    assert results.count(True) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1


async def test_the_same_person_is_found_again_by_channel_identity(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        first = await people.get_or_create_person(session, people.TELEGRAM, "60", "王")
        again = await people.get_or_create_person(session, people.TELEGRAM, "60", "王阿姨", client_locale="en")
        other_channel = await people.get_or_create_person(session, "wechat", "60")
    assert first.id == again.id != other_channel.id
    assert again.display_name == "王阿姨"
    async with sessionmaker() as session:  # the new name and client language were written
        stored = await people.find_person(session, people.TELEGRAM, "60")
    assert stored is not None and (stored.display_name, stored.client_locale, stored.reading_locale("zh_CN")) == ("王阿姨", "en", "en")


async def test_reimport_updates_changed_floors_and_areas_only(sessionmaker: Sessions) -> None:
    rows = sample_households()
    await seeded(sessionmaker, rows)
    changed = [replace(rows[0], area=rows[0].area + 1), replace(rows[1], floor=rows[1].floor + 1), *rows[2:]]
    async with sessionmaker.begin() as session:
        summary = await places.import_households(session, changed, actor=audit.COMMAND_LINE)
    assert summary.updated_households == 2 and summary.unchanged_households == len(rows) - 2 and not summary.created
    async with sessionmaker() as session:
        stored = (await session.execute(select(Household.floor, Household.area).order_by(Household.id).limit(2))).all()
    assert [tuple(row) for row in stored] == [(changed[0].floor, changed[0].area), (changed[1].floor, changed[1].area)]


async def test_old_processed_updates_are_forgotten(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        session.add(ProcessedUpdate(channel="telegram", update_key="1", processed_at=utcnow() - timedelta(days=8)))
        session.add(ProcessedUpdate(channel="telegram", update_key="2", processed_at=utcnow() - timedelta(hours=1)))
    assert await forget_old_updates(sessionmaker) == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ProcessedUpdate.update_key))) == ["2"]

"""Domain services on a real database (SQLite, and PostgreSQL where configured)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import sample_households
from bot.scheduling import forget_old_updates
from bot.services import access, audit, invites, people, places
from bot.services.errors import DomainError
from storage.models import AuditEntry, Building, Membership, ProcessedUpdate, Role, ScopeKind, utcnow

Sessions = async_sessionmaker[AsyncSession]


async def seeded(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        await places.import_households(session, sample_households())


async def test_a_community_grant_covers_its_compounds_and_buildings(sessionmaker: Sessions) -> None:
    await seeded(sessionmaker)
    async with sessionmaker.begin() as session:
        worker = await people.get_or_create_person(session, people.TELEGRAM, "42", "李网格")
        leader = await people.get_or_create_person(session, people.TELEGRAM, "43", "楼栋长")
        building_ids = list(await session.scalars(select(Building.id).order_by(Building.id)))
        assert await access.grant_role(session, worker.id, Role.grid_worker, access.Scope(ScopeKind.community, 1), actor=audit.COMMAND_LINE)
        assert await access.grant_role(session, leader.id, Role.building_leader, access.Scope(ScopeKind.building, building_ids[0]), actor=audit.COMMAND_LINE)

        for building_id in building_ids:
            assert await access.has_role(session, worker.id, {Role.grid_worker}, access.Scope(ScopeKind.building, building_id))
        assert await access.has_role(session, leader.id, {Role.building_leader}, access.Scope(ScopeKind.building, building_ids[0]))
        assert not await access.has_role(session, leader.id, {Role.building_leader}, access.Scope(ScopeKind.building, building_ids[1]))
        assert not await access.has_role(session, leader.id, {Role.building_leader}, access.Scope(ScopeKind.compound, 1))
        assert not await access.has_role(session, worker.id, {Role.admin})
        actions = list(await session.scalars(select(AuditEntry.action)))
        assert actions == ["grant_role", "grant_role"]


async def test_scopes_must_exist_and_parse(sessionmaker: Sessions) -> None:
    await seeded(sessionmaker)
    with pytest.raises(DomainError):
        access.Scope.parse("household:1")
    async with sessionmaker.begin() as session:
        person = await people.get_or_create_person(session, people.TELEGRAM, "44")
        with pytest.raises(DomainError):
            await access.grant_role(session, person.id, Role.admin, access.Scope.parse("building:999"), actor=audit.COMMAND_LINE)


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
        again = await people.get_or_create_person(session, people.TELEGRAM, "60", "王阿姨")
        other_channel = await people.get_or_create_person(session, "wechat", "60")
    assert first.id == again.id != other_channel.id
    assert again.display_name == "王阿姨"


async def test_reimport_updates_changed_areas_only(sessionmaker: Sessions) -> None:
    rows = sample_households()
    async with sessionmaker.begin() as session:
        await places.import_households(session, rows)
    changed = [rows[0].__class__(**{**rows[0].__dict__, "area": rows[0].area + 1}), *rows[1:]]
    async with sessionmaker.begin() as session:
        summary = await places.import_households(session, changed)
    assert summary.updated_households == 1 and summary.unchanged_households == len(rows) - 1 and not summary.created


async def test_old_processed_updates_are_forgotten(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        session.add(ProcessedUpdate(channel="telegram", update_id=1, processed_at=utcnow() - timedelta(days=8)))
        session.add(ProcessedUpdate(channel="telegram", update_id=2, processed_at=utcnow() - timedelta(hours=1)))
    assert await forget_old_updates(sessionmaker) == 1
    async with sessionmaker() as session:
        assert list(await session.scalars(select(ProcessedUpdate.update_id))) == [2]

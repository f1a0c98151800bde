"""The storage layer on SQLite and PostgreSQL: places queried both ways in one query each,
timestamps in UTC, an existing database migrated without loss, concurrent migrations."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import sample_households
from bot.services import access, audit, invites, people, places
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry, Household, InviteCode, Membership, Place, PlaceKind, ProcessedUpdate, Role, RoleGrant
from tests.conftest import POSTGRES_URL, fresh_postgres_database

Sessions = async_sessionmaker[AsyncSession]


async def test_what_lies_within_a_place_and_what_contains_it(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        await places.import_households(session, sample_households())
        compound = await session.scalar(select(Place).where(Place.kind == PlaceKind.compound))
        building = await session.scalar(select(Place).where(Place.kind == PlaceKind.building, Place.name == "2栋"))
        assert compound is not None and building is not None
        assert await session.scalar(select(func.count()).select_from(Household).where(places.within(compound))) == 72
        assert await session.scalar(select(func.count()).select_from(Household).where(places.within(building))) == 24
        units = list(await session.scalars(select(Place.name).where(places.within(building, Place))))
        assert units == ["1单元", "2单元"]
        household = await session.scalar(select(Household).where(places.within(building)).limit(1))
        assert household is not None
        assert places.contains(compound, household) and places.contains(building, household) and places.contains(building, building)
        other = await session.scalar(select(Place).where(Place.kind == PlaceKind.building, Place.name == "1栋"))
        assert other is not None and not places.contains(other, household)


async def test_timestamps_come_back_aware_and_in_utc(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        await audit.record(session, audit.COMMAND_LINE, "probe", "-")
    async with sessionmaker() as session:
        created = await session.scalar(select(AuditEntry.created_at))
    assert created is not None and created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None)


OLD_DATA = """
INSERT INTO districts (id, name) VALUES (1, '冷水滩区');
INSERT INTO streets (id, district_id, name) VALUES (1, 1, '梅湾街道');
INSERT INTO communities (id, street_id, name) VALUES (1, 1, '通化街社区');
INSERT INTO compounds (id, community_id, name) VALUES (1, 1, '西冲塘小区'), (2, 1, '菱角塘小区');
INSERT INTO buildings (id, compound_id, name) VALUES (1, 1, '1栋'), (2, 2, 'A栋');
INSERT INTO units (id, building_id, name) VALUES (1, 1, '1单元'), (2, 2, '1单元');
INSERT INTO households (id, unit_id, floor, room, area) VALUES (1, 1, 1, '101', 58.60), (2, 2, 2, '201', 70.00), (3, 1, 2, '201', 72.35);
INSERT INTO people (id, display_name, locale, created_at) VALUES (1, '王阿姨', NULL, '2026-11-24 08:00:00'), (2, '李网格', 'en', '2026-11-24 08:00:00'), (3, '张楼长', NULL, '2026-11-24 08:00:00');
INSERT INTO channel_identities (id, person_id, channel, external_id, created_at) VALUES (1, 1, 'telegram', '1001', '2026-11-24 08:00:00');
INSERT INTO memberships (id, person_id, household_id, verified, created_at) VALUES (1, 1, 1, true, '2026-11-24 08:00:00');
INSERT INTO role_grants (id, person_id, role, scope_kind, scope_id, created_at) VALUES
  (1, 2, 'grid_worker', 'community', 1, '2026-11-24 08:00:00'),
  (2, 3, 'building_leader', 'building', 2, '2026-11-24 08:00:00'),
  (3, 3, 'building_leader', 'building', 99, '2026-11-24 08:00:00');
INSERT INTO invite_codes (id, code, kind, target_id, used_by, created_at) VALUES
  (1, 'BUILDNG2', 'building', 2, NULL, '2026-11-24 08:00:00'),
  (2, 'HOUSE002', 'household', 2, 1, '2026-11-24 08:00:00');
INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ('telegram', 5, '2026-11-24 08:00:00');
"""


async def test_an_existing_database_migrates_without_loss(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0002")
        async with engine.begin() as connection:
            for statement in OLD_DATA.split(";"):
                if statement.strip():
                    await connection.execute(text(statement))
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(Place)) == 9
            addresses = await places.household_addresses(session, [1, 2, 3])
            assert (addresses[1].compound, addresses[1].building, addresses[1].unit, addresses[1].room) == ("西冲塘小区", "1栋", "1单元", "101")
            assert (addresses[2].compound, addresses[2].building) == ("菱角塘小区", "A栋")
            household = await session.get(Household, 2)
            assert household is not None and str(household.area) == "70.00"
            compound = await session.scalar(select(Place).where(Place.name == "菱角塘小区"))
            assert compound is not None and household.compound_id == compound.id and household.community_id == compound.community_id

            memberships = (await session.execute(select(Membership.person_id, Membership.household_id, Membership.verified))).all()
            assert memberships == [(1, 1, True)]
            grants = {(g.person_id, g.role, (await session.get(Place, g.place_id)).name) for g in await session.scalars(select(RoleGrant))}  # type: ignore[union-attr]
            assert grants == {(2, Role.grid_worker, "通化街社区"), (3, Role.building_leader, "A栋")}  # the grant on a missing building is gone
            invite_rows = {code.code: code for code in await session.scalars(select(InviteCode))}
            assert (await session.get(Place, invite_rows["BUILDNG2"].place_id)).name == "A栋"  # type: ignore[union-attr]
            assert invite_rows["HOUSE002"].household_id == 2 and invite_rows["HOUSE002"].used_by == 1
            assert await session.scalar(select(ProcessedUpdate.update_key)) == "5"
            person = await session.get(people.Person, 2)
            assert person is not None and person.locale == "en" and person.created_at.tzinfo is not None
        async with create_sessionmaker(engine).begin() as session:  # and the migrated data is usable
            assert await invites.building_code(session, invite_rows["BUILDNG2"].place_id, actor=audit.COMMAND_LINE) == "BUILDNG2"  # type: ignore[arg-type]
            grid_worker = audit.Actor("telegram", 2)
            assert await access.is_allowed(session, grid_worker, access.Permission.print_invites, household)
    finally:
        await engine.dispose()


async def _upgrade_at_once(database_url: str, tmp_path: Path, processes: int = 3) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "GONGJIAN_DATABASE_URL": database_url}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    return list(await asyncio.gather(*(asyncio.to_thread(run) for _ in range(processes))))


async def test_several_processes_migrating_at_once_all_succeed(tmp_path: Path) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path / 'at-once.db'}"]
    if POSTGRES_URL is not None:
        async with fresh_postgres_database() as postgres_url:
            await _check_upgrades(postgres_url, tmp_path)
    for url in urls:
        await _check_upgrades(url, tmp_path)


async def _check_upgrades(url: str, tmp_path: Path) -> None:
    results = await _upgrade_at_once(url, tmp_path)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-500:] for r in results]
    assert all("Traceback" not in r.stderr for r in results)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
            assert (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all() == [head]
    finally:
        await engine.dispose()

"""The same migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.db import create_engine
from storage.models import Base


async def test_upgrade_matches_the_models_and_downgrades_cleanly(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert differences == []
        assert {"households", "people", "channel_identities", "memberships", "role_grants", "invite_codes", "audit_log", "processed_updates"} <= tables

        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(lambda sync: set(inspect(sync).get_table_names())) <= {"alembic_version"}
        await migrate.upgrade(engine)  # and back up again
    finally:
        await engine.dispose()

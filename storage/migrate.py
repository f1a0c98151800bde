"""Bring a database to the newest schema with the project's Alembic migrations.

Several bot workers and command-line runs may start at once on one database: on PostgreSQL
the migration holds an advisory lock for its transaction, on SQLite the transaction begins
IMMEDIATE; either way the others wait, then find the schema current and do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it names the lock that every gongjian process takes to migrate.
ADVISORY_LOCK_KEY = 0x676F6E676A69616E  # "gongjian"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run_command(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run_command(engine, command.downgrade, revision)


async def _run_command(engine: AsyncEngine, alembic_command: Callable[[Config, str], None], revision: str) -> None:
    url = engine.url.render_as_string(hide_password=False)

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        config = alembic_config(url)
        config.attributes["connection"] = connection
        alembic_command(config, revision)
        if connection.dialect.name == "sqlite":
            # Foreign keys are off while tables are rebuilt; make sure nothing was left dangling.
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if problems:
                raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {problems[:5]}")

    # A separate engine: on SQLite it has foreign keys off, which a migration needs.
    migration_engine = create_engine(url, foreign_keys=False)
    try:
        async with migration_engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await migration_engine.dispose()

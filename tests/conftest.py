"""Shared fixtures: real SQLite files, PostgreSQL and Redis when the machine has them, and the
real bot polling a local Bot API emulator over HTTP."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Application, application, polling_in_background
from bot.config import Settings
from bot.demo import SampleCommunity, seed_sample
from bot.emulator import BotApiEmulator, EmulatorClient
from storage import migrate
from storage.db import create_engine, create_sessionmaker

POSTGRES_URL = os.environ.get("GONGJIAN_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("GONGJIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the developer's own environment or .env leaks into a test."""
    for name in list(os.environ):
        if name.startswith("GONGJIAN_") and not name.startswith("GONGJIAN_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    assert POSTGRES_URL is not None
    admin_dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = "gongjian_" + uuid.uuid4().hex[:12]
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    if POSTGRES_URL is None:
        pytest.skip("PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL (.ci/run does when it answers at 127.0.0.1:5432)")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


@dataclass
class RunningBot:
    app: Application
    emulator: BotApiEmulator
    client: EmulatorClient
    sample: SampleCommunity
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings


@asynccontextmanager
async def running_bot(
    tmp_path: Path, *, before_start: Callable[[BotApiEmulator], None] | None = None, redis_url: str | None = None, **emulator_options: object
) -> AsyncIterator[RunningBot]:
    emulator = BotApiEmulator(**emulator_options)  # type: ignore[arg-type]
    if before_start is not None:
        before_start(emulator)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    sample = await seed_sample(database_url)
    base_url = await emulator.start()
    settings = Settings(
        bot_token=SecretStr(emulator.token), telegram_api_url=base_url, database_url=database_url, redis_url=redis_url, _env_file=None
    )
    try:
        async with application(settings) as app, polling_in_background(app), EmulatorClient(base_url) as client:
            yield RunningBot(app, emulator, client, sample, app.sessionmaker, settings)
    finally:
        await emulator.stop()


@pytest.fixture
def start_bot(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[RunningBot]]:
    """A bot with options: `async with start_bot(per_chat_rate=1) as bot: ...`."""
    return lambda **options: running_bot(tmp_path, **options)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(tmp_path) as running:
        yield running

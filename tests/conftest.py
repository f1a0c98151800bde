"""Shared fixtures: real SQLite files, PostgreSQL and Redis when the machine has them, and the
real bot polling a local Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import OfflineBot, offline_bot
from bot.emulator import BotApiEmulator, WeChatEmulator
from storage import migrate
from storage.db import create_engine, create_sessionmaker

POSTGRES_URL = os.environ.get("GONGJIAN_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("GONGJIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@asynccontextmanager
async def loop_heartbeat() -> AsyncIterator[list[int]]:
    """Counts the event loop's turns, one every 10 ms while it is free: [count]. A loop stopped
    by blocking work counts none meanwhile."""
    beats = [0]

    async def beat() -> None:
        while True:
            beats[0] += 1
            await asyncio.sleep(0.01)

    beating = asyncio.create_task(beat())
    try:
        yield beats
    finally:
        beating.cancel()


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


RunningBot = OfflineBot


@asynccontextmanager
async def running_bot(
    tmp_path: Path, *, before_start: Callable[[BotApiEmulator], None] | None = None, redis_url: str | None = None, **emulator_options: object
) -> AsyncIterator[RunningBot]:
    emulator = BotApiEmulator(**emulator_options)  # type: ignore[arg-type]
    if before_start is not None:
        before_start(emulator)
    # Sweeps run when a test says so (scheduling.run_sweeps with its own `now`), never behind it.
    async with offline_bot(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", emulator, redis_url=redis_url, sweep_seconds=0) as bot:
        yield bot


@pytest.fixture
def start_bot(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[RunningBot]]:
    """A bot with options: `async with start_bot(per_chat_rate=1) as bot: ...`."""
    return lambda **options: running_bot(tmp_path, **options)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_bot(tmp_path) as running:
        yield running


@asynccontextmanager
async def running_wechat_bot(database_url: str, wechat: WeChatEmulator | None = None, **settings: object) -> AsyncIterator[RunningBot]:
    """The bot serving Telegram (polling its emulator) and WeChat (its webhook, which the WeChat
    emulator pushes to), in one process on one database."""
    async with offline_bot(database_url, wechat=wechat or WeChatEmulator(), **{"sweep_seconds": 0, **settings}) as bot:
        yield bot


@pytest.fixture
def start_wechat_bot(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[RunningBot]]:
    """`async with start_wechat_bot(WeChatEmulator(reply_timeout=1), wechat_reply_seconds=0.3) as bot: ...`;
    `database_url=` for another database than a fresh SQLite file."""
    return lambda wechat=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", **settings: running_wechat_bot(database_url, wechat, **settings)


@pytest.fixture
async def wechat_bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with running_wechat_bot(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as running:
        yield running

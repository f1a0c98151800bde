"""The per-update path stays short: what one everyday update (/me) asks of the database."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

import storage.db
from storage.db import again_if_disconnected, create_engine, create_sessionmaker, update_sessions
from storage.sqlite_driver import CHECKPOINT_EVERY
from tests.conftest import POSTGRES_URL, RunningBot, fresh_postgres_database, loop_heartbeat
from tests.test_notices import join


async def test_me_for_a_joined_resident_takes_five_statements_on_the_loop(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    resident = bot.client.user(7001, "李大爷")
    [joined] = await resident.send(f"/start {bot.sample.household_code}")
    assert "认证住户成员" in joined.text
    await resident.send("/me")  # the first /me issues the link code; later ones show the same

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.app.engine.sync_engine, "before_cursor_execute", record)
    trips = count_trips_to_the_database_thread(monkeypatch)
    try:
        [mine] = await resident.send("/me")
    finally:
        event.remove(bot.app.engine.sync_engine, "before_cursor_execute", record)
    assert "301室（已认证）" in mine.text and "绑定" in mine.text
    # Claim the update, find the person, their households with addresses, their roles, their
    # link code: one statement each, and nothing written but the claim.
    assert len(statements) <= 5, "\n".join(statements)
    assert sum(statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for statement in statements) == 1, "\n".join(statements)
    # SQLite: all of them on the event loop (what went to the thread meanwhile is the sender's look at the outbox).
    assert not [trip for trip in trips if "processed_updates" in trip or "people" in trip], trips


async def test_an_answer_to_a_step_reads_the_person_with_their_conversation_in_one_statement(bot: RunningBot) -> None:
    await join(bot, 7002, "王阿姨")
    resident = bot.client.user(7002, "王阿姨")
    [proposal] = await resident.send("/report 3栋电梯坏了，老人下不了楼")

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(bot.app.engine.sync_engine, "before_cursor_execute", record)
    try:
        [saved] = await resident.send(proposal.button_texts[0])  # the category typed by its name: the step's answer
    finally:
        event.remove(bot.app.engine.sync_engine, "before_cursor_execute", record)
    assert "已受理" in saved.text
    reads = [statement for statement in statements if statement.upper().startswith("SELECT") and " conversations" in statement]
    assert len(reads) == 1 and "channel_identities" in reads[0], "\n".join(statements)


def test_every_filter_and_handler_runs_on_the_event_loop() -> None:
    """aiogram runs a filter or handler that is not a coroutine function in a worker thread, on
    every update it sees (a bare `F.text` is one): each of ours is awaited where it is."""
    from aiogram import Dispatcher

    from handlers import feature_routers

    dispatcher = Dispatcher()
    dispatcher.include_routers(*feature_routers())
    threaded = []
    for router in dispatcher.chain_tail:
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                callables = [handler, *(handler.filters or [])]
                threaded += [f"{router.name}.{name}: {c.callback!r}" for c in callables if not c.awaitable]
            threaded += [f"{router.name}.{name} filter: {f.callback!r}" for f in observer._handler.filters or [] if not f.awaitable]
    assert not threaded, "\n".join(threaded)


async def test_an_updates_transaction_runs_on_the_loop_and_waits_for_a_lock_off_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite an update's transaction, BEGIN to COMMIT, runs on the event loop's thread
    without a trip to the database thread; while another process writes, its BEGIN IMMEDIATE
    waits in the database thread instead, so the bot goes on answering meanwhile."""
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = create_sessionmaker(engine)
    loop_thread = threading.get_ident()
    # SELECT thread_now(): the thread that runs the statement.
    event.listen(engine.sync_engine, "connect", lambda connection, _: connection.create_function("thread_now", 0, threading.get_ident))
    trips = count_trips_to_the_database_thread(monkeypatch)
    try:
        async with sessions() as session:
            await session.execute(text("CREATE TABLE said (word TEXT)"))
            await session.commit()

        async def update(word: str) -> list[int]:
            async with update_sessions(sessions)() as session:
                first = await session.scalar(text("SELECT thread_now()"))
                await session.execute(text("INSERT INTO said VALUES (:word)"), {"word": word})
                later = await session.scalar(text("SELECT thread_now()"))
                await session.commit()
                return [first, later]

        trips.clear()
        assert await update("早上好") == [loop_thread, loop_thread]
        assert trips == []  # BEGIN, the statements, COMMIT and the pool's reset: none left the loop

        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # `gongjian import …` writing
        async with loop_heartbeat() as beats:
            handled = asyncio.create_task(update("你好"))
            await asyncio.sleep(0.5)
            assert not handled.done() and beats[0] >= 20, beats  # waiting for the lock, the loop free
            other_process.execute("COMMIT")
            first, later = await asyncio.wait_for(handled, 10)
        other_process.close()
        assert first != loop_thread and later == loop_thread
        async with sessions() as session:  # a transaction of the sweeps or the command line: all in the thread
            assert await session.scalar(text("SELECT thread_now()")) != loop_thread
            assert list(await session.scalars(text("SELECT word FROM said ORDER BY rowid"))) == ["早上好", "你好"]
    finally:
        await engine.dispose()


async def test_the_write_ahead_log_is_checkpointed_off_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits on the loop never checkpoint (that writes and syncs the database file), however
    long the log grows; every CHECKPOINT_EVERY of them one goes to the database thread and
    checkpoints there, so the log is reused and the database file holds what was committed."""
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = create_sessionmaker(engine)
    trips = count_trips_to_the_database_thread(monkeypatch)

    def rows_in_the_file_alone() -> int:
        alone = tmp_path / "file-alone.db"  # the database file without its log
        shutil.copyfile(path, alone)
        reader = sqlite3.connect(alone)
        try:
            return reader.execute("SELECT count(*) FROM notes").fetchone()[0]
        finally:
            reader.close()

    async def commits(count: int) -> None:
        for number in range(count):
            async with update_sessions(sessions)() as session:
                # 13 pages each: the log passes SQLite's own checkpoint mark (1,000 pages) in 77.
                await session.execute(text("INSERT INTO notes VALUES (:body)"), {"body": f"{number:05d}" * 10_000})
                await session.commit()

    try:
        async with sessions() as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
            await session.commit()
        other_process = sqlite3.connect(path)
        other_process.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the table in the file
        other_process.close()
        trips.clear()
        await commits(CHECKPOINT_EVERY - 1)
        assert trips == [] and rows_in_the_file_alone() == 0
        await commits(1)
        assert trips == ["_commit_and_checkpoint"] and rows_in_the_file_alone() == CHECKPOINT_EVERY
        log_after_one_round = Path(f"{path}-wal").stat().st_size
        await commits(2 * CHECKPOINT_EVERY)
        assert trips.count("_commit_and_checkpoint") == 3 and rows_in_the_file_alone() == 3 * CHECKPOINT_EVERY
        assert Path(f"{path}-wal").stat().st_size <= log_after_one_round * 1.1  # reused, not grown
    finally:
        await engine.dispose()


def count_trips_to_the_database_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function aiosqlite runs in its thread, from now on; with its statement
    for a statement's run (storage.sqlite_driver._run)."""
    trips: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", repr(fn))
        trips.append(f"{name} {args[2]}" if name == "_run" else name)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def close_the_servers_side(database_url: str) -> int:
    """What a PostgreSQL restart does to the bot's pooled connections: the server closes them."""
    import asyncpg

    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return len(await admin.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        await admin.close()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL")
async def test_a_transaction_on_a_connection_the_server_closed_runs_again_on_a_new_one() -> None:
    async with fresh_postgres_database() as url:
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        runs = 0

        async def transaction() -> int:
            nonlocal runs
            runs += 1
            async with sessions() as session:
                value = await session.scalar(text("SELECT 41 + 1"))
                await session.commit()
                return value

        try:
            assert await transaction() == 42  # its connection now waits in the pool
            assert await close_the_servers_side(url) >= 1
            runs = 0
            assert await again_if_disconnected(transaction) == 42
            assert runs == 2  # the first run met the closed connection; no ping had hidden it
            with pytest.raises(DBAPIError):  # and without a second run, the person would have heard an apology
                await close_the_servers_side(url)
                await transaction()
        finally:
            await engine.dispose()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL")
async def test_residents_are_answered_on_both_channels_after_postgresql_closed_every_connection(
    start_wechat_bot: Callable[..., AbstractAsyncContextManager[RunningBot]],
) -> None:
    async with fresh_postgres_database() as url, start_wechat_bot(database_url=url) as bot:
        resident = bot.client.user(7001, "李大爷")
        [joined] = await resident.send(f"/start {bot.sample.household_code}")
        assert "认证住户成员" in joined.text
        assert bot.wechat_client is not None
        neighbour = bot.wechat_client.user("oNeighbour0001")
        [before] = await neighbour.send("我的")
        assert "【您的住户】" in before

        assert await close_the_servers_side(url) >= 1
        [mine] = await resident.send("/me")
        assert "301室（已认证）" in mine.text and "抱歉" not in mine.text
        [theirs] = await neighbour.send("我的")
        assert "【您的住户】" in theirs and "抱歉" not in theirs


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL")
async def test_a_connection_that_sat_idle_is_pinged_so_a_sweep_after_a_restart_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is not an update (a sweep, the nightly jobs, the sender) has no second run: a
    connection that sat idle IDLE_PING_SECONDS is pinged before use, and a closed one replaced."""
    async with fresh_postgres_database() as url:
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        try:
            async with sessions.begin() as session:
                assert await session.scalar(text("SELECT 1")) == 1
            assert await close_the_servers_side(url) >= 1
            monkeypatch.setattr(storage.db, "IDLE_PING_SECONDS", 0.0)  # as if it had waited overnight
            async with sessions.begin() as session:
                assert await session.scalar(text("SELECT 2")) == 2
        finally:
            await engine.dispose()


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL not configured: set GONGJIAN_TEST_DATABASE_URL")
async def test_more_transactions_than_pooled_connections_wait_for_one_instead_of_opening_more() -> None:
    """A connection opened beyond the pool is closed when given back, so under load every few
    updates paid for a new server process and prepared their statements again on it."""
    async with fresh_postgres_database() as url:
        engine = create_engine(url, pool_size=3)
        sessions = create_sessionmaker(engine)

        async def transaction() -> int:
            async with sessions.begin() as session:
                server_process = await session.scalar(text("SELECT pg_backend_pid()"))
                await asyncio.sleep(0.01)  # all twelve hold a connection, or wait for one, at once
                return server_process

        try:
            for _ in range(3):
                server_processes = set(await asyncio.gather(*(transaction() for _ in range(12))))
            assert len(server_processes) <= 3
        finally:
            await engine.dispose()

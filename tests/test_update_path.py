"""The per-update path stays short: what one everyday update (/me) asks of the database."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from storage.db import create_engine, create_sessionmaker, statements_on_loop
from tests.conftest import RunningBot, loop_heartbeat


async def test_me_for_a_joined_resident_takes_five_statements(bot: RunningBot) -> None:
    resident = bot.client.user(7001, "李大爷")
    [joined] = await resident.send(f"/start {bot.sample.household_code}")
    assert "认证住户成员" in joined.text
    await resident.send("/me")  # the first /me issues the link code; later ones show the same

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.app.engine.sync_engine, "before_cursor_execute", record)
    try:
        [mine] = await resident.send("/me")
    finally:
        event.remove(bot.app.engine.sync_engine, "before_cursor_execute", record)
    assert "301室（已认证）" in mine.text and "绑定" in mine.text
    # Claim the update, find the person, their households with addresses, their roles, their
    # link code: one statement each, and nothing written but the claim.
    assert len(statements) <= 5, "\n".join(statements)
    assert sum(statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for statement in statements) == 1, "\n".join(statements)


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


async def test_an_updates_statements_run_on_the_loop_and_its_begin_waits_off_it(tmp_path: Path) -> None:
    """On SQLite an update's statements after the first run on the event loop's thread; the
    first, which carries BEGIN IMMEDIATE, waits in the database thread while another process
    writes, so the bot goes on answering meanwhile."""
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    sessions = create_sessionmaker(engine)
    loop_thread = threading.get_ident()
    # SELECT thread_now(): the thread that runs the statement.
    event.listen(engine.sync_engine, "connect", lambda connection, _: connection.create_function("thread_now", 0, threading.get_ident))
    try:
        async with sessions() as session:
            await session.execute(text("CREATE TABLE said (word TEXT)"))
            await session.commit()

        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")  # `gongjian import …` writing

        async def update() -> list[int]:
            async with sessions() as session:
                await statements_on_loop(session)
                first = await session.scalar(text("SELECT thread_now()"))
                await session.execute(text("INSERT INTO said VALUES ('你好')"))
                later = await session.scalar(text("SELECT thread_now()"))
                await session.commit()
                return [first, later]

        async with loop_heartbeat() as beats:
            handled = asyncio.create_task(update())
            await asyncio.sleep(0.5)
            assert not handled.done() and beats[0] >= 20, beats  # waiting for the lock, the loop free
            other_process.execute("COMMIT")
            first, later = await asyncio.wait_for(handled, 10)
        other_process.close()
        assert first != loop_thread and later == loop_thread
        async with sessions() as session:  # a transaction of the sweeps or the command line: all in the thread
            assert await session.scalar(text("SELECT thread_now()")) != loop_thread
            assert await session.scalar(text("SELECT word FROM said")) == "你好"
    finally:
        await engine.dispose()

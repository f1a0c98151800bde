"""Engine and session factory, the same for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage.sqlite_driver import BUSY_TIMEOUT_MS, OneTripDBAPI

log = logging.getLogger(__name__)
T = TypeVar("T")
IDLE_PING_SECONDS = 10.0  # PostgreSQL: a pooled connection idle this long is pinged before use
POOL_SIZE = 10  # PostgreSQL: connections per process (GONGJIAN_DATABASE_POOL_SIZE for the bot)


def create_engine(database_url: str, *, foreign_keys: bool = True, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """An engine for the bot, the command line and the scheduler.

    SQLite: one connection per process, so that this process's transactions queue in asyncio
    (without SQLite's sleeping busy handler) while the database file admits one writer at a
    time anyway; every transaction begins IMMEDIATE, taking the write lock at once, so a read
    that turns into a write can never fail half-way with "database is locked" (other processes,
    such as the command line, wait up to busy_timeout); a statement is one trip to the
    database thread at most, and an update's transaction none unless its BEGIN has to wait
    (storage/sqlite_driver.py). `foreign_keys=False` is for migrations, which rebuild tables
    and must not cascade deletes while they do.

    PostgreSQL: a pooled connection is pinged before use only if it sat idle IDLE_PING_SECONDS
    (a ping is BEGIN, a query and ROLLBACK: three round trips, which every update paid when all
    were pinged); one the server closed while it was busy is found by the update that uses it,
    and again_if_disconnected runs that update once more on a new one. The pool never opens
    connections beyond `pool_size`: SQLAlchemy closes such an overflow connection when it is
    given back, so under steady load (32 updates in flight against 5 + 10 connections) the bot
    opened and closed connections all the time, each a new server process that prepared every
    statement again (1.6 prepares an update; 3.0 ms of the bot's CPU per /me, 2.1 without).
    A transaction beyond `pool_size` waits for a connection instead.
    """
    if not database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, pool_size=pool_size, max_overflow=0)
        event.listen(engine.sync_engine, "checkin", _note_idle_since)
        event.listen(engine.sync_engine, "checkout", _ping_if_idle)
        return engine
    engine = create_async_engine(database_url, module=OneTripDBAPI(), pool_size=1, max_overflow=0, pool_timeout=60)
    event.listen(engine.sync_engine, "connect", lambda dbapi_connection, _record: _tune_sqlite(dbapi_connection, foreign_keys))
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _tune_sqlite(dbapi_connection: Any, foreign_keys: bool) -> None:
    # The driver's own implicit transactions are off; SQLAlchemy's "begin" emits BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never wait for the writer. synchronous=NORMAL in WAL mode keeps every
    # committed transaction across a crash of the process (an OS crash may lose the last few).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _note_idle_since(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    if time.monotonic() - record.info.get("idle_since", math.inf) < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # the pool drops this connection and checks out another
        raise DisconnectionError(f"an idle connection was closed: {error}") from error


def _begin_immediate(connection: Connection) -> None:
    # Sent with the transaction's first statement (storage/sqlite_driver.py), on the loop for
    # the transaction of an update (update_sessions), else in the database thread.
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.pending_begin = "BEGIN IMMEDIATE"  # type: ignore[union-attr]
    dbapi_connection.inline = connection.get_execution_options().get(_UPDATE_TRANSACTION, False)  # type: ignore[union-attr]


_UPDATE_TRANSACTION = "gongjian_update_transaction"


def update_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions like `sessions`', for the transaction of one update: on SQLite it runs on the
    event loop, BEGIN to COMMIT, without a trip to the database thread for each statement,
    unless another process is writing (see storage/sqlite_driver.py). For transactions of a
    handful of statements on indexed rows, as an update's are; sweeps, the outbox's sender and
    the command line keep every statement in the thread. PostgreSQL's driver is asynchronous
    already: nothing changes there. (An option of the engine rather than a call at the start of
    each transaction, which cost two more trips through SQLAlchemy's greenlet per update.)"""
    engine: AsyncEngine = sessions.kw["bind"]
    return create_sessionmaker(engine.execution_options(**{_UPDATE_TRANSACTION: True}))


async def again_if_disconnected(transaction: Callable[[], Awaitable[T]]) -> T:
    """Run `transaction` (a function that opens, and commits, a session of its own), and once
    more if the connection it got turned out to be closed (PostgreSQL restarted, or ended idle
    connections): SQLAlchemy has then dropped that connection and the pool's older ones, so the
    second run gets a new one. The first committed nothing, unless the connection went during
    its COMMIT: then the second finds the update claimed and does nothing, and the person hears
    nothing for that message (they would have had an apology)."""
    try:
        return await transaction()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("the database connection was closed (%s); once more on a new one", " ".join(str(error.orig).split()))
        return await transaction()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# The INSERT of each database that knows ON CONFLICT (DO NOTHING / DO UPDATE): SQLite's and
# PostgreSQL's share the syntax, but SQLAlchemy keeps one construct per dialect. By dialect
# name, for statements built once for both.
UPSERT_INSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def upsert_insert(session: AsyncSession) -> Any:
    """The session's database's INSERT that knows ON CONFLICT (see UPSERT_INSERTS)."""
    return UPSERT_INSERTS[session.bind.dialect.name]

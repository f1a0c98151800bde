"""SQLAlchemy's aiosqlite adapter, with one trip to the database thread per statement, and
none at all for the short statements of an update's transaction.

aiosqlite runs each SQLite call in its own thread; SQLAlchemy's adapter makes four calls per
statement (open a cursor, execute, fetch the rows, close the cursor), and each trip to the
thread and back costs tens of microseconds of wake-ups, far more than SQLite's own work on an
indexed table. Here a statement's execute, fetch and close run together in the thread, so a
statement costs one trip. The behaviour is the adapter's own in every other respect.

A connection marked `inline` (storage.db.update_sessions, for the transaction of one
update) runs the transaction on the event loop instead, BEGIN to COMMIT: on a virtual machine
a trip measured 0.3-0.4 ms, against 10-50 us for one of an update's statements on indexed rows.
What may wait stays in the thread: a BEGIN IMMEDIATE that finds another process writing (it
waits there, up to the busy timeout), and the checkpoint of the write-ahead log (it writes and
syncs the database file), done every CHECKPOINT_EVERY commits.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, int, int | None, list[Any]]
BUSY_TIMEOUT_MS = 5000  # how long a transaction waits for another process's write lock
CHECKPOINT_EVERY = 100  # inline commits between checkpoints of the write-ahead log (each writes a few pages)
AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: other commits checkpoint once the log is this long


def _run(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool) -> Outcome:
    """In the database thread (or on the loop, inline): the transaction's BEGIN when it goes
    with the first statement, the statement, its rows and the cursor's facts, all at once."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, parameters if parameters is not None else ())
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _begin_unless_locked(connection: sqlite3.Connection, begin: str) -> bool:
    """On the event loop: begin at once if no other process holds the write lock (True), else
    begin nothing (False) and leave the waiting to the database thread. SQLite's busy handler
    sleeps, so it is off for this one statement."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute(begin)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # BUSY, or BUSY_RECOVERY and the like
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return True


def _commit_without_checkpoint(connection: sqlite3.Connection) -> None:
    """On the event loop: SQLite checkpoints inside the commit that fills the log to
    AUTOCHECKPOINT_PAGES, writing and syncing the database file; not in this one."""
    connection.execute("PRAGMA wal_autocheckpoint=0")
    try:
        connection.commit()
    finally:
        connection.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")


def _commit_and_checkpoint(connection: sqlite3.Connection) -> None:
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor is opened up front (that was a trip of its own): each statement opens one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._statement(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._statement(operation, seq_of_parameters, many=True)

    def _statement(self, operation: Any, parameters: Any, many: bool) -> None:
        """Called in SQLAlchemy's greenlet. A statement of an inline transaction runs right here,
        without awaiting anything (so nothing else can use the connection meanwhile, and no
        switch back to the event loop's greenlet is needed); any other, or a BEGIN that has to
        wait for another process, goes to the database thread. (So an inline transaction's
        statements go through its AsyncSession: AsyncConnection.execute insists that a statement
        awaited something and raises AwaitRequired for one that did not need to.)"""
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        connection: sqlite3.Connection = self._connection._conn  # type: ignore[attr-defined]
        try:
            if adapted.inline and not adapted._execute_mutex.locked() and (
                adapted.pending_begin is None or _begin_unless_locked(connection, adapted.pending_begin)
            ):
                adapted.pending_begin = None
                outcome = _run(connection, None, operation, parameters, many)
            else:
                outcome = await_(self._in_thread(operation, parameters, many))
        except Exception as error:
            adapted._handle_exception(error)
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _in_thread(self, operation: Any, parameters: Any, many: bool) -> Outcome:
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            begin, adapted.pending_begin = adapted.pending_begin, None
            return await connection._execute(_run, connection._conn, begin, operation, parameters, many)

    async def _async_soft_close(self) -> None:
        """The cursor was closed in the thread already."""

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """`pending_begin`: a BEGIN that travels with the transaction's first statement (see
    storage.db), one trip fewer per transaction. `inline`: the transaction runs on the event
    loop (its BEGIN unless another process writes), until the connection goes back to the pool."""

    __slots__ = ("pending_begin", "inline", "commits_since_checkpoint")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        self.inline = False
        self.commits_since_checkpoint = 0

    def commit(self) -> None:
        """An inline transaction commits on the loop: in WAL mode with synchronous=NORMAL a
        COMMIT appends to the log and syncs nothing. What may take long, checkpointing the log
        into the database file (and syncing it), SQLite would do inside some commit: not in an
        inline one; every CHECKPOINT_EVERY of them, the commit goes to the thread and checkpoints
        there. Other commits go to the thread and checkpoint as SQLite always does."""
        if not self._connection._connection:
            return
        connection: sqlite3.Connection = self._connection._conn
        try:
            if not self.inline:
                await_(self._connection._execute(connection.commit))
                return
            self.commits_since_checkpoint += 1
            if self.commits_since_checkpoint < CHECKPOINT_EVERY:
                _commit_without_checkpoint(connection)
            else:
                self.commits_since_checkpoint = 0
                await_(self._connection._execute(_commit_and_checkpoint, connection))
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        """The pool rolls back every connection it gets back, committed or not: where no
        transaction is open there is nothing to roll back, and no trip to make."""
        if self._connection._connection and self._connection._conn.in_transaction:
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Used by the database thread and, for inline statements, the event loop's thread: never
        # both at once (a connection serves one transaction, and an inline statement runs only
        # while the adapter's mutex is free and awaits nothing).
        kw["check_same_thread"] = False
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)

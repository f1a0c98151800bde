"""SQLAlchemy's aiosqlite adapter, with one trip to the database thread per statement, and
none at all for the short statements of an update's transaction.

aiosqlite runs each SQLite call in its own thread; SQLAlchemy's adapter makes four calls per
statement (open a cursor, execute, fetch the rows, close the cursor), and each trip to the
thread and back costs tens of microseconds of wake-ups, far more than SQLite's own work on an
indexed table. Here a statement's execute, fetch and close run together in the thread, so a
statement costs one trip. The behaviour is the adapter's own in every other respect.

A connection marked `inline` (storage.db.statements_on_loop, for the transaction of one
update) runs its statements on the event loop instead, all but the first: on a virtual machine a
trip measured 0.3-0.4 ms, against 10-50 us for one of an update's statements on indexed rows.
What can wait stays in the thread: the transaction's BEGIN IMMEDIATE (which waits while another
process writes) travels with the first statement, and COMMIT (which may checkpoint the WAL and
sync the file) goes as before.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import EMPTY_DICT

Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool) -> Outcome:
    """In the database thread: the transaction's BEGIN when it is the first statement, the
    statement, its rows and the cursor's facts, all at once."""
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

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            begin, adapted.pending_begin = adapted.pending_begin, None
            if adapted.inline and begin is None:
                outcome = _run(connection._conn, None, operation, parameters, many)
            else:
                outcome = await connection._execute(_run, connection._conn, begin, operation, parameters, many)
            self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._run(operation, seq_of_parameters, many=True)

    async def _async_soft_close(self) -> None:
        """The cursor was closed in the thread already."""

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """`pending_begin`: a BEGIN that travels with the transaction's first statement (see
    storage.db), one trip fewer per transaction. `inline`: the statements after it run on the
    event loop, until the connection goes back to the pool."""

    __slots__ = ("pending_begin", "inline")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        self.inline = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Used by the database thread and, for inline statements, the event loop's thread: never
        # both at once (the adapter's mutex, and one transaction per connection).
        kw["check_same_thread"] = False
        return OneTripConnection(self, super().connect(*arg, **kw)._connection)

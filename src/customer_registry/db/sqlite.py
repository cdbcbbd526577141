"""SQLite through the sqlite3 module, on the event loop itself.

A statement on a local file takes microseconds, less than handing it to a thread would
(aiosqlite's way). Two connections per process: one for reads, which run without a
transaction (one statement, one snapshot; WAL lets them run beside a writer), and one for
the process's writers, who take turns on an ``asyncio.Lock`` in arrival order. Another
process's writer is waited for by retrying BEGIN IMMEDIATE between sleeps of the loop,
never by SQLite's busy handler, which would stop every request of this process meanwhile.
"""

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

from customer_registry.db.statements import Params, Rows, Statement, compiled
from customer_registry.errors import ServiceBusy

DIALECT = "sqlite"


def _timestamp(value: bytes) -> datetime:
    # Stored in UTC without a zone, in SQLAlchemy's format (the migrations write it too).
    return datetime.fromisoformat(value.decode()).replace(tzinfo=UTC)


sqlite3.register_converter("DATETIME", _timestamp)
sqlite3.register_converter("BOOLEAN", lambda value: value != b"0")


def _bound(value: Any) -> Any:
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _params(statement: Statement, params: Params | None) -> tuple[str, dict[str, Any]]:
    sql = compiled(statement, DIALECT)
    return sql.text, {name: _bound(value) for name, value in sql.named(params).items()}


class SqliteTx:
    """Statements on one of the process's two connections."""

    __slots__ = ("conn",)
    dialect = DIALECT

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def fetch(self, statement: Statement, params: Params | None = None) -> list[Any]:
        return self.conn.execute(*_params(statement, params)).fetchall()

    async def fetchrow(self, statement: Statement, params: Params | None = None) -> Any:
        rows = self.conn.execute(*_params(statement, params)).fetchall()
        return rows[0] if rows else None

    async def fetchval(self, statement: Statement, params: Params | None = None) -> Any:
        row = await self.fetchrow(statement, params)
        return None if row is None else row[0]

    async def execute(self, statement: Statement, params: Params | None = None) -> None:
        self.conn.execute(*_params(statement, params)).fetchall()

    async def executemany(self, statement: Statement, rows: Rows) -> None:
        sql = compiled(statement, DIALECT)
        bound = [{name: _bound(value) for name, value in sql.named(row).items()} for row in rows]
        self.conn.executemany(sql.text, bound)

    async def stream(
        self, statement: Statement, params: Params | None, *, batch: int
    ) -> AsyncIterator[Any]:
        cursor = self.conn.execute(*_params(statement, params))
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield row
            await asyncio.sleep(0)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self.conn.execute("SAVEPOINT row")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO row")
            raise
        finally:
            self.conn.execute("RELEASE row")

    async def copy(
        self, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]
    ) -> None:
        raise NotImplementedError("COPY is PostgreSQL's")


def create_private(path: str) -> None:
    """Create the database file readable and writable by its owner only, if there is none:
    it holds personal data, and SQLite gives the -wal and -shm files the same permissions."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (FileExistsError, FileNotFoundError):  # there already; or SQLite says what is wrong
        return


def connect(path: str, *, busy_ms: int) -> sqlite3.Connection:
    create_private(path)
    conn = sqlite3.connect(
        path,
        isolation_level=None,  # we BEGIN ourselves: the module's own handling breaks IMMEDIATE
        detect_types=sqlite3.PARSE_DECLTYPES,
        check_same_thread=False,
        cached_statements=512,
    )
    conn.row_factory = sqlite3.Row
    # secure_delete: a deleted or overwritten value is zeroed in the file, not left in a free
    # page for anyone reading the file to find (an erasure must leave nothing behind).
    pragmas = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON")
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    return conn


class SqliteDatabase:
    dialect = DIALECT

    def __init__(self, path: str, *, acquire_timeout: float = 30.0) -> None:
        self._path = path
        self._acquire_timeout = acquire_timeout
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._turn = asyncio.Lock()
        self.in_use = 0

    def _read_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = connect(self._path, busy_ms=5000)
        return self._reader

    async def _take_turn(self) -> None:
        try:
            # Not wait_for: on Python 3.11 it can swallow a cancellation that arrives as the
            # lock is granted, and a cancelled task (a worker shutting down) would go on.
            async with asyncio.timeout(self._acquire_timeout):
                await self._turn.acquire()
        except TimeoutError as exc:
            raise ServiceBusy("every database writer stayed busy; retry later") from exc

    async def _begin(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = connect(self._path, busy_ms=0)
        deadline = time.monotonic() + self._acquire_timeout
        pause = 0.001
        while True:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                return self._writer
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise ServiceBusy("another writer held the database; retry later") from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        await self._take_turn()
        self.in_use += 1
        try:
            conn = await self._begin()
            try:
                yield SqliteTx(conn)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:  # an error, in the request or in COMMIT itself
                    conn.execute("ROLLBACK")
        finally:
            self.in_use -= 1
            self._turn.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteTx]:
        yield SqliteTx(self._read_connection())

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqliteTx]:
        # A connection of its own: its read transaction must not hold up the shared reader,
        # and, unlike a writer's, it lets writers go on meanwhile (WAL).
        conn = connect(self._path, busy_ms=5000)
        try:
            conn.execute("BEGIN")
            yield SqliteTx(conn)
        finally:
            conn.close()

    async def forget_overwritten(self) -> None:
        # The write-ahead log still holds the pages as they were before: copy the log into
        # the database file (whose freed space secure_delete zeroed) and empty it.
        await self._take_turn()
        try:
            if self._writer is None:
                self._writer = connect(self._path, busy_ms=0)
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._turn.release()

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None

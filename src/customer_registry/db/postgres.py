"""PostgreSQL through asyncpg: a pool per process, prepared statements per connection."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from customer_registry.db.statements import Params, Rows, Statement, compiled
from customer_registry.errors import ServiceBusy

DIALECT = "postgresql"


class PostgresTx:
    """Statements on one pooled connection; inside a transaction unless it only reads."""

    __slots__ = ("conn",)
    dialect = DIALECT

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetch(self, statement: Statement, params: Params | None = None) -> list[Any]:
        sql = compiled(statement, DIALECT)
        return list(await self.conn.fetch(sql.text, *sql.positional(params)))

    async def fetchrow(self, statement: Statement, params: Params | None = None) -> Any:
        sql = compiled(statement, DIALECT)
        return await self.conn.fetchrow(sql.text, *sql.positional(params))

    async def fetchval(self, statement: Statement, params: Params | None = None) -> Any:
        sql = compiled(statement, DIALECT)
        return await self.conn.fetchval(sql.text, *sql.positional(params))

    async def execute(self, statement: Statement, params: Params | None = None) -> None:
        sql = compiled(statement, DIALECT)
        await self.conn.execute(sql.text, *sql.positional(params))

    async def executemany(self, statement: Statement, rows: Rows) -> None:
        sql = compiled(statement, DIALECT)
        await self.conn.executemany(sql.text, [sql.positional(row) for row in rows])

    async def stream(
        self, statement: Statement, params: Params | None, *, batch: int
    ) -> AsyncIterator[Any]:
        """The rows through a server-side cursor, ``batch`` at a time (in a transaction)."""
        sql = compiled(statement, DIALECT)
        cursor = self.conn.cursor(sql.text, *sql.positional(params), prefetch=batch)
        async for row in cursor:
            yield row

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.conn.transaction():  # nested in a transaction: a savepoint
            yield

    async def copy(
        self, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]
    ) -> None:
        await self.conn.copy_records_to_table(table, records=records, columns=list(columns))


async def _keep_session(_conn: Any) -> None:
    """Nothing to undo when a connection returns to the pool: no statement sets session
    state (locks are transaction-scoped). asyncpg's default reset, ``RESET ALL`` and three
    more statements, would cost a round trip per request."""


class PostgresDatabase:
    """A fixed pool of connections, opened at first use (the app is built outside a loop)."""

    dialect = DIALECT

    def __init__(self, dsn: str, *, pool_size: int, acquire_timeout: float = 30.0) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._acquire_timeout = acquire_timeout
        self._pool: Any = None
        self._opening = asyncio.Lock()
        self.in_use = 0

    async def _opened(self) -> Any:
        async with self._opening:  # the first requests arrive together
            if self._pool is None:
                pool = asyncpg.create_pool(
                    self._dsn, min_size=0, max_size=self._pool_size, reset=_keep_session
                )
                self._pool = await pool
        return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        pool = self._pool or await self._opened()
        try:
            conn = await pool.acquire(timeout=self._acquire_timeout)
        except TimeoutError as exc:
            raise ServiceBusy("every database connection stayed busy; retry later") from exc
        self.in_use += 1
        try:
            yield conn
        finally:
            self.in_use -= 1
            await pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTx]:
        async with self._connection() as conn, conn.transaction():
            yield PostgresTx(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PostgresTx]:
        async with (
            self._connection() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PostgresTx(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PostgresTx]:
        # A read needs no transaction: it saves the BEGIN and COMMIT round trips.
        async with self._connection() as conn:
            yield PostgresTx(conn)

    async def forget_overwritten(self) -> None:
        # pg_dump and backups read live rows only; VACUUM (autovacuum) reclaims the dead
        # ones in the table files, and the server's WAL is the operator's (docs/privacy.md).
        return

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

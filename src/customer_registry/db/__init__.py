"""The database: one transaction API over asyncpg and sqlite3, and the tables' metadata.

Every statement runs on the driver itself (``Database`` and its ``Tx``); SQLAlchemy builds
the statements (``Sql``) and, through its engine, runs the migrations only.
"""

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from customer_registry.config import Settings
from customer_registry.db.postgres import PostgresDatabase
from customer_registry.db.sqlite import SqliteDatabase, create_private
from customer_registry.db.statements import Params, Rows, Sql, Statement
from customer_registry.db.tables import (
    credential_clients,
    credentials,
    customer_counts,
    customer_erasures,
    customer_events,
    customer_history,
    customer_reveals,
    customers,
    event_positions,
    idempotency_keys,
    key_checks,
    metadata,
    operator_clients,
    operator_sessions,
    operators,
    signing_keys,
    token_failures,
    webhook_deliveries,
    webhook_endpoints,
)
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault

__all__ = [
    "Database",
    "DatabaseError",
    "Params",
    "Sql",
    "Store",
    "Tx",
    "create_engine",
    "credential_clients",
    "credentials",
    "customer_counts",
    "customer_erasures",
    "customer_events",
    "customer_history",
    "customer_reveals",
    "customers",
    "database_url",
    "event_positions",
    "idempotency_keys",
    "key_checks",
    "metadata",
    "open_database",
    "operator_clients",
    "operator_sessions",
    "operators",
    "signing_keys",
    "token_failures",
    "webhook_deliveries",
    "webhook_endpoints",
]


class Tx(Protocol):
    """Statements in one transaction (or, from ``Database.reading``, in none)."""

    dialect: str

    async def fetch(self, statement: Statement, params: Params | None = None) -> list[Any]: ...
    async def fetchrow(self, statement: Statement, params: Params | None = None) -> Any: ...
    async def fetchval(self, statement: Statement, params: Params | None = None) -> Any: ...
    async def execute(self, statement: Statement, params: Params | None = None) -> None: ...
    async def executemany(self, statement: Statement, rows: Rows) -> None: ...
    def stream(
        self, statement: Statement, params: Params | None, *, batch: int
    ) -> AsyncIterator[Any]: ...
    async def copy(
        self, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]
    ) -> None: ...
    def savepoint(self) -> AbstractAsyncContextManager[None]: ...


class Database(Protocol):
    dialect: str
    in_use: int

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction: committed when the block ends, rolled back on any exception."""

    def reading(self) -> AbstractAsyncContextManager[Tx]:
        """Statements that only read, each on its own snapshot: no BEGIN, no COMMIT."""

    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """Statements that only read, all on one snapshot, however long they take, without
        holding up writers."""

    async def forget_overwritten(self) -> None:
        """Drop the copies of deleted and overwritten rows the database keeps beside its
        tables, where it can: after an erasure, no file of the database holds its values."""

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Store:
    """What the customer repository works on: the transaction and the vault for personal data;
    ``appended`` is told the source of each change event appended (the app's metrics)."""

    conn: Tx
    vault: Vault
    appended: Callable[[str], None] | None = None


# What a statement the database refused raises, on either driver (a lost connection is not).
DatabaseError = (asyncpg.PostgresError, sqlite3.DatabaseError)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def database_url(raw: str) -> URL:
    """Parse a database URL, picking our async driver when the URL names none."""
    try:
        url = make_url(raw.replace("postgres://", "postgresql://", 1))
    except ArgumentError as exc:
        raise ConfigurationError(f"CUSTOMER_REGISTRY_DATABASE_URL is not a URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ConfigurationError(
            f"unsupported database {backend!r}: use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST/DB"
        )
    return url.set(drivername=_ASYNC_DRIVERS[backend])


def open_database(settings: Settings, *, acquire_timeout: float = 30.0) -> Database:
    """The database of ``settings``; connections open at first use."""
    url = database_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresDatabase(
            dsn, pool_size=settings.db_pool_size, acquire_timeout=acquire_timeout
        )
    return SqliteDatabase(url.database or "", acquire_timeout=acquire_timeout)


def create_engine(settings: Settings) -> AsyncEngine:
    """A SQLAlchemy engine, for the migrations (Alembic runs on it)."""
    url = database_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        return create_async_engine(url)
    create_private(url.database or "")
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling breaks savepoints and BEGIN IMMEDIATE;
    # we switch it off and emit BEGIN ourselves (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # A migration writes: it takes the write lock up front rather than fail half-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")

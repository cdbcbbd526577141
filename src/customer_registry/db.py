"""Engine factory, table metadata (SQLAlchemy Core) and the request-owned connection."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from customer_registry.config import Settings
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Name keys are compared byte-wise so that a prefix search is an index range scan on
# PostgreSQL whatever the database's collation is.
NameKey = String(200).with_variant(String(200, collation="C"), "postgresql")
Timestamp = DateTime(timezone=True)
# Personal data encrypted by the vault: key id, nonce and tag make it longer than the value.
Sealed = String(200)

credentials = Table(
    "credentials",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("oauth_client_id", String(64), nullable=False, unique=True),
    Column("oauth_secret_hash", String(64), nullable=False),
    Column("subscription_key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    # Tokens issued before the secrets were last rotated are refused.
    Column("rotated_at", Timestamp),
)

credential_clients = Table(
    "credential_clients",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("credential_id", ForeignKey("credentials.id"), primary_key=True),
    Index(None, "credential_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(32), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("type", String(10), nullable=False),
    Column("first_name", String(50)),
    Column("last_name", String(50)),
    Column("ssn", Sealed),
    Column("ssn_index", String(32)),
    Column("company_name", String(140)),
    Column("organization_number", Sealed),
    Column("organization_number_index", String(32)),
    Column("phone_number", String(20)),
    Column("phone_e164", String(20)),
    Column("mobile_phone", String(20)),
    Column("mobile_phone_e164", String(20)),
    Column("email", String(255)),
    Column("street", String(100)),
    Column("street_number", String(10)),
    Column("street_number_additional", String(10)),
    Column("care_of", String(100)),
    Column("address_line3", String(100)),
    Column("postal_code", String(10)),
    Column("postal_place", String(100)),
    Column("country_code", String(2)),
    Column("existing_customer", Boolean),
    Column("individual_risk_score", String(50)),
    Column("salutation", String(4)),
    Column("birth_date", Sealed),
    Column("language", String(2)),
    Column("tax_identification_number", Sealed),
    Column("payment_registration_id", String(100)),
    Column("psp_customer_id", String(100)),
    Column("psp_payment_method_id", String(100)),
    Column("payment_id", String(21), nullable=False),
    Column("internal_number", String(9), nullable=False),
    Column("sign_up_id", BigInteger, nullable=False),
    Column("first_name_key", NameKey),
    Column("last_name_key", NameKey),
    Column("full_name_key", NameKey),
    Column("company_name_key", NameKey),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("client_id", "payment_id"),
    UniqueConstraint("client_id", "internal_number"),
    UniqueConstraint("client_id", "sign_up_id"),
    *(
        Index(None, "client_id", column)
        for column in (
            "ssn_index",
            "organization_number_index",
            "phone_e164",
            "mobile_phone_e164",
            "first_name_key",
            "last_name_key",
            "full_name_key",
            "company_name_key",
        )
    ),
)

# Kept by triggers (migration 0004): the size of a client's listing without counting it.
customer_counts = Table(
    "customer_counts",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("customers", BigInteger, nullable=False),
)

customer_history = Table(
    "customer_history",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("changed_at", Timestamp, nullable=False),
    Column("credential_id", String(36)),
    Column("request_id", String(128)),
    Column("dialect", String(20), nullable=False),
    Column("changes", Text, nullable=False),
)

# Keyed by credential, not client: a key is the caller's, whichever client it writes to.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("credential_id", String(36), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("headers", Text),
    Column("body", LargeBinary),
    Column("expires_at", Timestamp, nullable=False),
    Index(None, "expires_at"),
)

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


_READS = ("GET", "HEAD")


def create_engine(settings: Settings) -> AsyncEngine:
    url = database_url(settings.database_url)
    # A fixed pool: overflow connections would be opened and closed per request under load,
    # and opening one costs far more than waiting for a pooled one to come back.
    pool = {"pool_size": settings.db_pool_size, "max_overflow": 0}
    if url.get_backend_name() == "postgresql":
        return create_async_engine(url, pool_pre_ping=False, **pool)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)
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
    # A writer must take the write lock up front: a deferred transaction that reads first
    # cannot wait for the lock later and fails with "database is locked" instead.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _writer_turn(request: Request) -> AbstractAsyncContextManager[Any]:
    # SQLite runs one writer at a time. This process's writers queue here in arrival order,
    # rather than in SQLite's busy handler, which sleeps up to 100 ms between its retries.
    turn: asyncio.Lock | None = request.app.state.sqlite_writer_turn
    return turn if turn is not None and request.method not in _READS else nullcontext()


async def request_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """The request's transaction: committed when the handler returns, rolled back on error."""
    engine: AsyncEngine = request.app.state.engine
    async with _writer_turn(request), engine.connect() as conn:
        if request.method not in _READS:
            await conn.execution_options(sqlite_immediate=True)
        elif conn.dialect.name == "postgresql":
            # A read needs no transaction: it saves the BEGIN and COMMIT round trips.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with conn.begin():
            yield conn


Connection = Annotated[AsyncConnection, Depends(request_connection, scope="function")]


@dataclass(frozen=True, slots=True)
class Store:
    """What the customer repository works on: the transaction and the vault for personal data."""

    conn: AsyncConnection
    vault: Vault


async def request_store(request: Request, conn: Connection) -> Store:
    # async: FastAPI runs a plain function dependency in a thread, a hop per request.
    return Store(conn, request.app.state.vault)


CustomerStore = Annotated[Store, Depends(request_store)]

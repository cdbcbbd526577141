"""Alembic environment: async engine, URL from Settings (or the caller), serialised runs."""

import asyncio

from alembic import context
from sqlalchemy import Connection

from customer_registry.config import Settings
from customer_registry.db import create_engine, database_url, metadata

# Any fixed number: replicas starting at once take turns instead of racing the DDL.
_MIGRATION_LOCK = 4_711_2024

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url") or Settings().database_url
    return database_url(url).render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(Settings(database_url=_database_url()))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())

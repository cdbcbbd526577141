"""Alembic migrations, shipped inside the package so that an installed wheel can migrate."""

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from customer_registry.config import Settings
from customer_registry.db import create_engine, database_url


def alembic_config(database_url: str, key_file: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["database_url"] = database_url
    config.attributes["key_file"] = key_file
    return config


def upgrade(database_url: str, revision: str = "head", *, key_file: Path | None = None) -> None:
    """Bring the database to ``revision``. Runs its own event loop: call it from sync code.

    Data migrations that encrypt personal data use ``key_file`` (default: the setting's).
    """
    command.upgrade(alembic_config(database_url, key_file), revision)


def downgrade(database_url: str, revision: str, *, key_file: Path | None = None) -> None:
    command.downgrade(alembic_config(database_url, key_file), revision)


@cache
def heads() -> frozenset[str]:
    """The newest revisions shipped with this code: what a ready database must be at."""
    return frozenset(ScriptDirectory(str(Path(__file__).parent)).get_heads())


def print_sql(url: str, *, from_scratch: bool = False) -> None:
    """Print the DDL of the migrations the database lacks (of all, ``from_scratch``)."""
    applied = () if from_scratch else asyncio.run(_applied(url))
    if set(applied) >= heads():
        return
    start = f"{applied[0]}:" if applied else ""
    command.upgrade(alembic_config(url), f"{start}head", sql=True)


async def _applied(url: str) -> tuple[str, ...]:
    """The database's revisions; none for a SQLite file that does not exist yet."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return ()
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_heads_of)
    finally:
        await engine.dispose()


def _heads_of(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())

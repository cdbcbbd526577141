"""The migrations build exactly the schema the code declares, and can be undone."""

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from customer_registry import migrations
from customer_registry.config import Settings
from customer_registry.db import create_engine, metadata
from tests.conftest import admin


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the kind under test that no migration has touched."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"cr_empty_{secrets.token_hex(6)}"
    asyncio.run(admin(database_url, f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(database_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def _inspect(url: str) -> tuple[set[str], list[object]]:
    def run(conn: Connection) -> tuple[set[str], list[object]]:
        context = MigrationContext.configure(conn)
        return set(inspect(conn).get_table_names()), compare_metadata(context, metadata)

    async def main() -> tuple[set[str], list[object]]:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(run)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_upgrade_builds_the_declared_schema(empty_database: str) -> None:
    migrations.upgrade(empty_database)

    tables, differences = _inspect(empty_database)

    assert {"customers", "credentials", "credential_clients", "signing_keys"} <= tables
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    migrations.upgrade(empty_database)
    migrations.downgrade(empty_database, "base")
    tables, _ = _inspect(empty_database)
    assert tables <= {"alembic_version"}

    migrations.upgrade(empty_database)
    assert "customers" in _inspect(empty_database)[0]

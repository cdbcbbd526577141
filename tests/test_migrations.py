"""The migrations build exactly the schema the code declares, and can be undone."""

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from customer_registry import migrations
from customer_registry.config import Settings
from customer_registry.db import create_engine, metadata
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault


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


def test_upgrade_builds_the_declared_schema(empty_database: str, key_file: Path) -> None:
    migrations.upgrade(empty_database, key_file=key_file)

    tables, differences = _inspect(empty_database)

    assert {"customers", "customer_history", "credentials", "signing_keys"} <= tables
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(empty_database: str, key_file: Path) -> None:
    migrations.upgrade(empty_database, key_file=key_file)
    migrations.downgrade(empty_database, "base", key_file=key_file)
    tables, _ = _inspect(empty_database)
    assert tables <= {"alembic_version"}

    migrations.upgrade(empty_database, key_file=key_file)
    assert "customers" in _inspect(empty_database)[0]


def test_upgrade_encrypts_personal_data_stored_before_and_downgrade_restores_it(
    empty_database: str, key_file: Path
) -> None:
    migrations.upgrade(empty_database, "0001", key_file=key_file)
    row = (
        "INSERT INTO customers (client_id, customer_number, version, type, ssn, birth_date,"
        " payment_id, internal_number, sign_up_id, created_at, updated_at) VALUES (1, 'old', 1,"
        " 'Person', '02016126007', '1984-11-11', '1', '100000000', 1, '2026-01-01', '2026-01-01')"
    )
    _execute(empty_database, row)

    migrations.upgrade(empty_database, key_file=key_file)
    sealed = _execute(empty_database, "SELECT ssn, birth_date, ssn_index FROM customers")
    migrations.downgrade(empty_database, "0001", key_file=key_file)
    restored = _execute(empty_database, "SELECT ssn, CAST(birth_date AS TEXT) FROM customers")

    assert "02016126007" not in str(sealed)
    assert sealed[0][2] is not None
    assert restored == [("02016126007", "1984-11-11")]


def _execute(url: str, sql: str) -> list[tuple[object, ...]]:
    async def main() -> list[tuple[object, ...]]:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(sql))
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _old_customer_with_national_id(url: str, key_file: Path) -> None:
    migrations.upgrade(url, "0001", key_file=key_file)
    row = (
        "INSERT INTO customers (client_id, customer_number, version, type, ssn,"
        " payment_id, internal_number, sign_up_id, created_at, updated_at) VALUES (7, 'old', 1,"
        " 'Person', '02016126007', '1', '100000000', 1, '2026-01-01', '2026-01-01')"
    )
    _execute(url, row)
    migrations.upgrade(url, "0004", key_file=key_file)


def test_upgrade_gives_each_client_its_own_blind_indexes_and_downgrade_shares_them_again(
    empty_database: str, key_file: Path
) -> None:
    _old_customer_with_national_id(empty_database, key_file)
    vault = Vault.open(key_file)
    index = "SELECT ssn_index FROM customers"
    tenantless = _execute(empty_database, index)

    migrations.upgrade(empty_database, key_file=key_file)
    per_client = _execute(empty_database, index)
    migrations.downgrade(empty_database, "0004", key_file=key_file)

    assert tenantless == [(vault.tenantless_index("02016126007"),)]
    assert per_client == [(vault.blind_index("02016126007", 7),)]
    assert _execute(empty_database, index) == tenantless


def test_upgrade_of_sealed_data_without_its_key_file_is_refused(
    empty_database: str, key_file: Path, tmp_path: Path
) -> None:
    _old_customer_with_national_id(empty_database, key_file)

    with pytest.raises(ConfigurationError, match="does not exist"):
        migrations.upgrade(empty_database, key_file=tmp_path / "missing.key")
    with pytest.raises(ConfigurationError, match="cannot decrypt"):
        migrations.upgrade(empty_database, key_file=Vault.open(tmp_path / "other.key").path)
    assert not (tmp_path / "missing.key").exists()


def test_upgrade_seals_stored_idempotent_answers_and_deletes_expired_ones(
    empty_database: str, key_file: Path
) -> None:
    migrations.upgrade(empty_database, "0004", key_file=key_file)
    answer = '\'{"email": "stored.before@mail.com"}\''
    for key, expires in (("live", "2999-01-01"), ("expired", "2000-01-01")):
        _execute(
            empty_database,
            "INSERT INTO idempotency_keys (credential_id, idempotency_key, request_hash, status,"
            f" headers, body, expires_at) VALUES ('cr', '{key}', 'h', 200, '{{}}',"
            f" CAST({answer} AS {_BYTES[empty_database.split(':')[0]]}), '{expires}')",
        )

    migrations.upgrade(empty_database, key_file=key_file)
    sealed = _execute(empty_database, "SELECT idempotency_key, body FROM idempotency_keys")
    migrations.downgrade(empty_database, "0004", key_file=key_file)
    restored = _execute(empty_database, "SELECT body FROM idempotency_keys")

    assert [key for key, _ in sealed] == ["live"]
    assert b"stored.before" not in _bytes(sealed[0][1])
    assert [_bytes(body) for (body,) in restored] == [b'{"email": "stored.before@mail.com"}']


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes | memoryview)
    return bytes(value)


_BYTES = {"sqlite+aiosqlite": "BLOB", "postgresql+asyncpg": "BYTEA"}

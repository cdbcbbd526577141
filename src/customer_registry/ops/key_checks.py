"""Which keys the database's sealed data needs, checked against the key file before any use.

A replica started with a missing or different key file used to create a fresh key under the
same id, report ready, fail on every sealed value and write values no other replica could
read. The database now records a check value per key id (``Vault.check_values``) the first
time a key file with that key opens it; every process that opens the database afterwards
must hold the same keys, or it refuses to run.
"""

import hmac
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.db import Database, Sql, Tx, key_checks
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault

_EXPECTED = Sql(select(key_checks.c.kid, key_checks.c.check_value))
_RECORD = Sql(
    postgresql.insert(key_checks).on_conflict_do_nothing(),
    sqlite.insert(key_checks).on_conflict_do_nothing(),
)


class KeyFileMismatch(ConfigurationError):
    """The key file lacks a key the database's data uses, or holds another under its id."""


async def expected_keys(conn: Tx) -> dict[str, str]:
    """The check value of every key id the database's sealed data may use."""
    return {row["kid"]: row["check_value"] for row in await conn.fetch(_EXPECTED)}


async def prepare(database: Database, vault: Vault) -> None:
    """Load ``vault``, proven to hold every key the database expects, and record the keys
    the database does not know yet. The key file is created only for a database that
    expects none: one that holds no sealed data."""
    async with database.transaction() as conn:
        expected = await expected_keys(conn)
        if expected and not vault.path.exists():
            raise KeyFileMismatch(_missing_file(vault, expected))
        vault.create()
        require_keys(vault, expected)
        new = {kid: value for kid, value in vault.check_values().items() if kid not in expected}
        now = datetime.now(UTC)
        rows = [{"kid": kid, "check_value": value, "created_at": now} for kid, value in new.items()]
        if rows:
            await conn.executemany(_RECORD, rows)
    # Again after committing: another process may have recorded other keys under the same
    # ids at the same time, and the first to commit wins.
    async with database.reading() as conn:
        require_keys(vault, await expected_keys(conn))


_FORGET = Sql(delete(key_checks).where(key_checks.c.kid == bindparam("kid")))


async def forget(database: Database, kids: list[str]) -> None:
    """Stop expecting retired keys: a key file without them is the right one now."""
    if kids:
        async with database.transaction() as conn:
            await conn.executemany(_FORGET, [{"kid": kid} for kid in kids])


async def open_vault(database: Database, vault: Vault) -> Vault:
    await prepare(database, vault)
    return vault


def require_keys(vault: Vault, expected: dict[str, str]) -> None:
    """Raise KeyFileMismatch unless ``vault`` holds the key behind every expected check value."""
    held = vault.check_values()
    lacking = sorted(kid for kid in expected if kid not in held)
    different = sorted(
        kid for kid in expected if kid in held and not hmac.compare_digest(held[kid], expected[kid])
    )
    if lacking or different:
        raise KeyFileMismatch(_mismatch(vault, expected, lacking, different))


def _missing_file(vault: Vault, expected: dict[str, str]) -> str:
    return (
        f"the key file {vault.path} does not exist, but the database holds data sealed with "
        f"keys {_listed(expected)}: set CUSTOMER_REGISTRY_KEY_FILE to the key file the "
        "database was used with (a copy of the other replicas' file)"
    )


def _mismatch(
    vault: Vault, expected: dict[str, str], lacking: list[str], different: list[str]
) -> str:
    problems = []
    if lacking:
        problems.append(f"lacks {', '.join(lacking)}")
    if different:
        problems.append(f"holds a different key under {', '.join(different)}")
    return (
        f"the key file {vault.path} {' and '.join(problems)}; the database expects keys "
        f"{_listed(expected)}: use the key file the database was used with (a copy of the "
        "other replicas' file)"
    )


def _listed(expected: dict[str, str]) -> str:
    return ", ".join(sorted(expected))

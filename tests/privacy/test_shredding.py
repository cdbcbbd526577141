"""After an erasure no personal value of the customer is left in the database's files, and
the sealed values in a dump taken before it cannot be decrypted once the old key is retired."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from customer_registry import migrations
from customer_registry.config import Settings
from customer_registry.customers import sealing
from customer_registry.db import customers
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault
from tests.conftest import ALLOWED_HOSTS
from tests.horizon.conftest import customer_url, person
from tests.privacy.conftest import WRITTEN, erase_url, json_of, personal_data_url, write_twice
from tests.subscriptions.conftest import CUSTOMERS, seed_post
from tests.test_personal_data_dump import _dump


async def _files_or_dump(app: FastAPI) -> bytes:
    """SQLite: the database file and its write-ahead log as they are on disk (no checkpoint
    of ours); PostgreSQL: pg_dump's output."""
    url = app.state.runtime.settings.database_url
    if not url.startswith("sqlite"):
        return await _dump(app, url)
    path = Path(sa.make_url(url).database or "")
    return b"".join(found.read_bytes() for found in path.parent.glob(path.name + "*"))


SIGNED_UP = ["Ankunding", "Ray_Ankunding43@gmail.com", "Bergnaum", "Schadenville",
             "871.790.7578", "+37258774XXX", "700XXX651", "12345678L", "1984-11-11"]  # fmt: skip
KEPT = person(person={"ssn": "15076500565", "firstName": "Kari", "lastName": "Nordmannsen"})


@pytest.fixture
def own_key_file(tmp_path: Path) -> Path:
    """A key file of this test's own: it rotates and retires keys."""
    return tmp_path / "own.key"


@pytest.fixture
def settings(empty_database: str, own_key_file: Path) -> Settings:
    migrations.upgrade(empty_database, key_file=own_key_file)
    return Settings(
        database_url=empty_database,
        key_file=own_key_file,
        db_pool_size=2,
        allowed_hosts=ALLOWED_HOSTS,
    )


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": settings.database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(settings.key_file),
    }
    run = [sys.executable, "-m", "customer_registry", *args]
    return subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)


async def test_no_value_of_an_erased_customer_is_left_in_a_dump(
    both: httpx.AsyncClient, client_id: int, app: FastAPI
) -> None:
    await write_twice(both, client_id, "p1")
    assert (await both.post(CUSTOMERS, json=seed_post(customerNumber="s1"))).status_code == 200
    await both.put(customer_url(client_id, "kept"), json=KEPT)
    json_of(await both.get(personal_data_url(client_id, "p1")))  # an export, recorded
    for number in ("p1", "s1"):
        assert (await both.delete(erase_url(client_id, number))).status_code == 204

    dump = await _files_or_dump(app)

    assert b"Nordmannsen" in dump  # the dump is real: a kept customer's name is in it
    for value in [*WRITTEN, *SIGNED_UP]:
        assert value.encode() not in dump, value


async def _sealed_row(app: FastAPI, client_id: int, number: str) -> Any:
    """What a dump holds of a customer: its sealed national ID and wrapped data key."""
    where = sa.and_(customers.c.client_id == client_id, customers.c.customer_number == number)
    async with app.state.runtime.database.reading() as conn:
        return await conn.fetchrow(sa.select(customers.c.ssn, customers.c.data_key).where(where))


def _opens(key_file: Path, client_id: int, number: str, row: Any) -> str:
    vault = Vault(key_file)
    vault.load()
    key = vault.data_key(row["data_key"], sealing.key_context(client_id, number))
    return key.open(row["ssn"], sealing.context(client_id, number, "ssn"))


async def test_a_dump_from_before_an_erasure_does_not_decrypt_once_old_keys_are_retired(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI, settings: Settings
) -> None:
    await write_twice(horizon, client_id, "p1")
    await horizon.put(customer_url(client_id, "kept"), json=KEPT)
    dumped = await _sealed_row(app, client_id, "p1")
    await horizon.delete(erase_url(client_id, "p1"))

    assert _cli(settings, "keys", "rotate").returncode == 0
    # Still readable: the key that wrapped its data key is in the key file, unused now.
    assert _opens(settings.key_file, client_id, "p1", dumped) == "02016126007"
    retired = _cli(settings, "keys", "retire")

    assert retired.returncode == 0, retired.stderr
    assert "Retired k1" in retired.stderr
    with pytest.raises(ConfigurationError):
        _opens(settings.key_file, client_id, "p1", dumped)
    kept = json_of(await horizon.get(personal_data_url(client_id, "kept")))
    assert kept["customer"]["ssn"] == "15076500565"  # what was not erased reads on
    assert "No key older" in _cli(settings, "keys", "retire").stderr


async def test_keys_rotate_gives_customers_stored_before_data_keys_their_own(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI, settings: Settings
) -> None:
    unsealed = person(person={"firstName": "Gudrun", "lastName": "Vesterheim"})
    assert (await horizon.put(customer_url(client_id, "p1"), json=unsealed)).status_code == 200
    where = sa.and_(customers.c.client_id == client_id, customers.c.customer_number == "p1")
    vault = app.state.runtime.vault
    legacy = vault.encrypt("02016126007", sealing.context(client_id, "p1", "ssn"))
    async with app.state.runtime.database.transaction() as conn:  # as migration 0009 left it
        await conn.execute(sa.update(customers).where(where).values(ssn=legacy, data_key=None))
    before = json_of(await horizon.get(personal_data_url(client_id, "p1")))["customer"]["ssn"]

    rotated = _cli(settings, "keys", "rotate")

    assert rotated.returncode == 0, rotated.stderr
    row = await _sealed_row(app, client_id, "p1")
    assert row["data_key"] is not None
    assert row["ssn"].startswith("dk.")
    assert before == "02016126007"
    assert _opens(settings.key_file, client_id, "p1", row) == "02016126007"

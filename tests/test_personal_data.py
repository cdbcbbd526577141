"""Personal data is encrypted at rest: a dump of the database shows none of it."""

import asyncio
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from customer_registry import credentials
from customer_registry.cli import app as cli
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

# The tax id is this test's own: the seed's (12345678L) also turned up by chance in index
# pages of other tests' customers (phone +4712345678 followed by a row id byte 'L').
TAX_ID = "TX-9Q7Z-55K3"
SECRETS = [b"02016126007", b"700XXX651", TAX_ID.encode(), b"1984-11-11", b"998877665"]


async def _dump(app: FastAPI, database_url: str) -> bytes:
    if database_url.startswith("sqlite"):
        async with app.state.engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(make_url(database_url).database or "")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    url = make_url(database_url)
    command = ["pg_dump", "-h", url.host or "", "-U", url.username or "", url.database or ""]
    dumped = await asyncio.to_thread(subprocess.run, command, capture_output=True, check=True)
    return dumped.stdout


async def test_a_database_dump_shows_no_national_id_in_clear_text(
    horizon: httpx.AsyncClient,
    client_id: int,
    credential: credentials.IssuedCredential,
    app: FastAPI,
    database_url: str,
) -> None:
    keyed = {"X-Subscription-Key": credential.subscription_key}
    assert (await horizon.put(customer_url(client_id, "p1"), json=person())).status_code == 200
    posted = seed_post(taxIdentificationNumber=TAX_ID)
    assert (await horizon.post(CUSTOMERS, json=posted, headers=keyed)).status_code == 200
    company = person(type="Company", company={"name": "Acme", "organizationNumber": "998877665"})
    del company["person"]
    company["address"]["countryCode"] = "SE"
    assert (await horizon.put(customer_url(client_id, "co"), json=company)).status_code == 200

    dump = await _dump(app, database_url)

    assert b"Ankunding" in dump  # the dump is real: names are not encrypted
    for secret in SECRETS:
        assert secret not in dump, secret


async def test_search_and_lookup_by_identification_work_on_encrypted_data(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "p1"), json=person())

    found = await horizon.post(
        f"/customer/v1/clients/{client_id}/customers/search",
        json={"searchValue": "02016126007", "searchColumn": "ssn"},
    )
    looked_up = await horizon.post(
        f"/customer/v1/clients/{client_id}/lookup/customer",
        json={"lookupField": "IdentificationNumber", "lookupValue": "02016126007"},
    )

    assert [item["customerNumber"] for item in found.json()["items"]] == ["p1"]
    assert looked_up.json()["customerNumber"] == "p1"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_key_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    from customer_registry.vault import Vault

    Vault.open(tmp_path / "new.key")

    assert (tmp_path / "new.key").stat().st_mode & 0o777 == 0o600


async def test_key_rotation_re_encrypts_everything_while_the_service_runs(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI, key_file: Path, database_url: str
) -> None:
    await horizon.put(customer_url(client_id, "p1"), json=person())
    env = {
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
    }

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "rotate"], env=env)

    assert result.exit_code == 0, result.output
    current = json.loads(key_file.read_text())["current"]
    async with app.state.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT ssn FROM customers"))).scalars().all()
    assert all(value.startswith(f"{current}.") for value in stored if value)
    found = await horizon.post(
        f"/customer/v1/clients/{client_id}/customers/search",
        json={"searchValue": "02016126007", "searchColumn": "ssn"},
    )
    assert found.json()["total"] == 1
    await horizon.put(customer_url(client_id, "p1"), json=person(email="after@rotation.no"))
    history = await horizon.get(f"/registry/v1/clients/{client_id}/customers/p1/history")
    assert history.status_code == 200

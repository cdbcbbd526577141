"""Personal data is encrypted at rest: a dump of the database shows none of it."""

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from typer.testing import CliRunner

from customer_registry.cli import app as cli
from tests.horizon.conftest import customer_url, person


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


@pytest.mark.slow
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
    async with app.state.runtime.database.reading() as conn:
        stored = await conn.fetch(text("SELECT ssn, data_key FROM customers"))
    # Each customer's values stay under its data key; the data keys are wrapped anew.
    assert all(ssn.startswith("dk.") for ssn, _ in stored if ssn)
    assert all(key.startswith(f"{current}.") for _, key in stored if key)
    found = await horizon.post(
        f"/customer/v1/clients/{client_id}/customers/search",
        json={"searchValue": "02016126007", "searchColumn": "ssn"},
    )
    assert found.json()["total"] == 1
    await horizon.put(customer_url(client_id, "p1"), json=person(email="after@rotation.no"))
    history = await horizon.get(f"/registry/v1/clients/{client_id}/customers/p1/history")
    assert history.status_code == 200

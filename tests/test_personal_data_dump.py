"""A dump of the database shows none of the personal data written through the API."""

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from customer_registry import migrations
from customer_registry.auth import credentials
from customer_registry.config import Settings
from tests.conftest import ALLOWED_HOSTS
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post


@pytest.fixture
def settings(empty_database: str, key_file: Path) -> Settings:
    """A database of this test's own: random ids other tests stored could match by chance."""
    migrations.upgrade(empty_database, key_file=key_file)
    return Settings(
        database_url=empty_database,
        key_file=key_file,
        db_pool_size=2,
        allowed_hosts=ALLOWED_HOSTS,
    )


SECRETS = [b"02016126007", b"700XXX651", b"12345678L", b"1984-11-11", b"998877665"]


async def _dump(app: FastAPI, database_url: str) -> bytes:
    if database_url.startswith("sqlite"):
        async with app.state.runtime.database.reading() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        path = Path(make_url(database_url).database or "")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    url = make_url(database_url)
    command = ["pg_dump", "--dbname", url.database or ""]
    for option, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value is not None:
            command += [option, str(value)]
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = url.password
    dumped = await asyncio.to_thread(
        subprocess.run, command, env=environment, capture_output=True, check=True
    )
    return dumped.stdout


async def test_a_database_dump_shows_no_national_id_in_clear_text(
    horizon: httpx.AsyncClient,
    client_id: int,
    credential: credentials.IssuedCredential,
    app: FastAPI,
) -> None:
    keyed = {"X-Subscription-Key": credential.subscription_key}
    assert (await horizon.put(customer_url(client_id, "p1"), json=person())).status_code == 200
    assert (await horizon.post(CUSTOMERS, json=seed_post(), headers=keyed)).status_code == 200
    company = person(type="Company", company={"name": "Acme", "organizationNumber": "998877665"})
    del company["person"]
    company["address"]["countryCode"] = "SE"
    assert (await horizon.put(customer_url(client_id, "co"), json=company)).status_code == 200
    # Change events carry the changed fields' old values, but never a national id's.
    company["company"]["organizationNumber"] = "998877664"
    assert (await horizon.put(customer_url(client_id, "co"), json=company)).status_code == 200
    hook = {"url": "https://93.184.216.34/hook"}
    created = await horizon.post(f"/registry/v1/clients/{client_id}/webhooks", json=hook)
    webhook_key = created.json()["secret"].removeprefix("whsec_").encode()

    dump = await _dump(app, app.state.runtime.settings.database_url)

    assert b"Ankunding" in dump  # the dump is real: names are not encrypted
    for secret in [*SECRETS, b"998877664", webhook_key]:
        assert secret not in dump, secret

"""Webhook endpoints through the API: created with a secret shown once, listed without it,
removed; URLs that would reach the operator's own network refused."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings
from customer_registry.db import webhook_endpoints
from tests.conftest import ALLOWED_HOSTS, BASE_URL, UNTHROTTLED_ADDRESS, create_credential
from tests.conftest import token_for as token_of
from tests.events.conftest import webhooks_url

RECEIVER = "http://127.0.0.1:9/hook"


async def test_an_endpoint_is_created_listed_and_removed(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    created = await horizon.post(
        webhooks_url(client_id), json={"url": RECEIVER, "eventTypes": ["customer.created"]}
    )
    body = created.json()
    listed = (await horizon.get(webhooks_url(client_id))).json()["items"]
    removed = await horizon.delete(f"{webhooks_url(client_id)}/{body['id']}")
    again = await horizon.delete(f"{webhooks_url(client_id)}/{body['id']}")
    after = (await horizon.get(webhooks_url(client_id))).json()["items"]

    assert created.status_code == 201
    assert set(body) == {"id", "url", "eventTypes", "secret"}
    assert body["secret"].startswith("whsec_")
    assert body["eventTypes"] == ["customer.created"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["status"] == "enabled"
    assert listed[0]["pendingDeliveries"] == listed[0]["failedDeliveries"] == 0
    assert removed.status_code == 204
    assert again.status_code == 404
    assert after == []


async def test_the_secret_is_stored_sealed(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    created = (await horizon.post(webhooks_url(client_id), json={"url": RECEIVER})).json()

    async with app.state.runtime.database.reading() as conn:
        stored = await conn.fetchval(
            select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == created["id"])
        )

    key = created["secret"].removeprefix("whsec_")
    assert key not in stored


async def test_a_repeated_creation_with_its_idempotency_key_creates_one_endpoint(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    headers = {"Idempotency-Key": "new-endpoint"}
    first = await horizon.post(webhooks_url(client_id), json={"url": RECEIVER}, headers=headers)
    second = await horizon.post(webhooks_url(client_id), json={"url": RECEIVER}, headers=headers)

    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len((await horizon.get(webhooks_url(client_id))).json()["items"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"url": RECEIVER, "eventTypes": ["customer.deleted"]},
        {"url": RECEIVER, "eventTypes": []},
        {"url": "ftp://example.com/hook"},
        {"url": RECEIVER, "secret": "mine"},
        {"url": "https://user:password@example.com/hook"},
    ],
)
async def test_invalid_endpoints_are_refused(
    horizon: httpx.AsyncClient, client_id: int, body: dict[str, object]
) -> None:
    response = await horizon.post(webhooks_url(client_id), json=body)

    assert response.status_code == 400, response.text


async def test_endpoints_are_the_clients_own(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    created = (await horizon.post(webhooks_url(client_id), json={"url": RECEIVER})).json()
    other = await create_credential(app, client_id + 1)
    headers = {"Authorization": f"Bearer {await token_of(horizon, other)}"}

    listed = await horizon.get(webhooks_url(client_id), headers=headers)
    other_url = f"{webhooks_url(client_id + 1)}/{created['id']}"
    removed = await horizon.delete(other_url, headers=headers)

    assert listed.status_code == 403
    assert removed.status_code == 404


@pytest.fixture
async def strict(
    database_url: str, key_file: Path, credential: credentials.IssuedCredential
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with the default settings: no private addresses."""
    settings = Settings(
        database_url=database_url,
        key_file=key_file,
        db_pool_size=2,
        token_failures_per_address=UNTHROTTLED_ADDRESS,
        allowed_hosts=ALLOWED_HOSTS,
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE_URL) as http:
        http.headers["Authorization"] = f"Bearer {await token_of(http, credential)}"
        yield http
    await app.state.runtime.database.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
    ],
)
async def test_urls_into_private_networks_are_refused(
    strict: httpx.AsyncClient, client_id: int, url: str
) -> None:
    response = await strict.post(webhooks_url(client_id), json={"url": url})

    assert response.status_code == 400, response.text
    assert response.json()["invalidParameters"][0]["name"] == "url"


async def test_a_public_https_url_is_accepted(strict: httpx.AsyncClient, client_id: int) -> None:
    response = await strict.post(webhooks_url(client_id), json={"url": "https://93.184.216.34/h"})

    assert response.status_code == 201, response.text

"""Hostile input never gives a 500 and never changes the store."""

import json

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.config import Settings
from customer_registry.db import open_database
from tests.conftest import DATA
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS

SEED = (DATA / "horizon_put_request.json").read_bytes()
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
async def test_a_body_that_is_not_json_is_415(
    both: httpx.AsyncClient, client_id: int, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    horizon = await both.put(customer_url(client_id, "c1"), content=SEED, headers=headers)
    subscriptions = await both.post(CUSTOMERS, content=SEED, headers=headers)

    for response in (horizon, subscriptions):
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/problem+json"
    assert (await both.get(customer_url(client_id, "c1"))).status_code == 404


async def test_json_with_parameters_or_a_json_suffix_is_accepted(
    both: httpx.AsyncClient, client_id: int
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = await both.put(
            customer_url(client_id, "c1"), content=SEED, headers={"Content-Type": content_type}
        )
        assert response.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        b'{"type": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_000 + b"}",
        b'{"type": "Person", "person": {"firstName": "\\ud800"}}',
        b'{"type": "Person", "person": {"firstName": "a\\u0000b"}}',
        b'{"type": 1e999}',
        b"\xef\xbb\xbf{}",
        json.dumps({"type": "Person", "individualRiskScore": 2**70}).encode(),
    ],
)
async def test_hostile_json_is_a_400_in_each_dialects_format(
    both: httpx.AsyncClient, client_id: int, raw: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    horizon = await both.put(customer_url(client_id, "c1"), content=raw, headers=headers)
    subscriptions = await both.post(CUSTOMERS, content=raw, headers=headers)

    for response in (horizon, subscriptions):
        assert response.status_code == 400, response.text
        assert response.json()["category"] == "BUSINESS_ERROR"
    assert (await both.get(customer_url(client_id, "c1"))).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/customer/v1/clients/{client}/customers/a%2Fb",
        "/customer/v1/clients/{client}/customers/" + "n" * 10_000,
        "/customer/v1/clients/9223372036854775808/customers/c1",
        "/customer/v1/clients/-9223372036854775809/customers/c1",
        "/subscriptions/v1/customers/" + "n" * 10_000,
        "/subscriptions/v1/customers/a%00b",
    ],
)
async def test_hostile_paths_are_4xx_problems(
    both: httpx.AsyncClient, client_id: int, path: str
) -> None:
    response = await both.get(path.format(client=client_id))

    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_subscription_key_is_reported_before_the_media_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(CUSTOMERS, content=b"x", headers={"Content-Type": "text/plain"})

    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


async def test_a_request_that_finds_every_connection_busy_is_a_503(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI, settings: Settings
) -> None:
    # The same kind of database the service opens, waiting 0.2 s instead of 30 for its turn.
    busy = open_database(settings.model_copy(update={"db_pool_size": 1}), acquire_timeout=0.2)
    service_database, app.state.runtime.database = app.state.runtime.database, busy
    try:
        async with busy.transaction():  # holds the only connection (SQLite: the writer's turn)
            response = await horizon.put(customer_url(client_id, "c1"), json=person())
    finally:
        app.state.runtime.database = service_database
        await busy.close()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["type"] == "/problems/service-busy"
    assert response.json()["category"] == "TECHNICAL_ERROR"

"""Idempotency-Key (both dialects) and X-Request-ID (Subscriptions) make retries safe."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, text

from customer_registry.auth import credentials
from customer_registry.db import idempotency_keys
from customer_registry.http import idempotency
from tests.conftest import create_credential, new_client_id, token_for
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post


async def test_a_repeat_replays_the_first_answer_without_writing_again(
    both: httpx.AsyncClient, client_id: int
) -> None:
    url = customer_url(client_id, "c1")
    first = await both.put(url, json=person(), headers={"Idempotency-Key": "k-1"})
    await both.put(url, json=person(email="changed@mail.com"))

    repeat = await both.put(url, json=person(), headers={"Idempotency-Key": "k-1"})

    assert repeat.status_code == first.status_code == 200
    assert repeat.content == first.content
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.headers["ETag"] == '"1"'
    assert (await both.get(url)).json()["email"] == "changed@mail.com"


async def test_the_same_key_with_another_body_is_422(
    both: httpx.AsyncClient, client_id: int
) -> None:
    url = customer_url(client_id, "c1")
    await both.put(url, json=person(), headers={"Idempotency-Key": "k-1"})

    reused = await both.put(url, json=person(email="x@y.no"), headers={"Idempotency-Key": "k-1"})

    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert (await both.get(url)).json()["email"] == "tom.customer@mail.com"


async def test_subscriptions_request_id_repeats_are_replayed(both: httpx.AsyncClient) -> None:
    headers = {"X-Request-ID": "order-4711"}
    first = await both.post(CUSTOMERS, json=seed_post(), headers=headers)
    repeat = await both.post(CUSTOMERS, json=seed_post(), headers=headers)
    other_body = await both.post(CUSTOMERS, json=seed_post(email="a@b.de"), headers=headers)

    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422


async def test_a_rejected_request_does_not_use_up_its_key(
    both: httpx.AsyncClient, client_id: int
) -> None:
    url = customer_url(client_id, "c1")
    broken = person()
    del broken["address"]
    rejected = await both.put(url, json=broken, headers={"Idempotency-Key": "k-1"})
    fixed = await both.put(url, json=person(), headers={"Idempotency-Key": "k-1"})

    assert rejected.status_code == 400
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed.headers


async def test_keys_belong_to_one_credential(
    both: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    other = await create_credential(app, client_id)
    token = await token_for(both, other)
    url = customer_url(client_id, "c1")
    await both.put(url, json=person(), headers={"Idempotency-Key": "k-1"})

    theirs = await both.put(
        url,
        json=person(email="other@mail.com"),
        headers={"Idempotency-Key": "k-1", "Authorization": f"Bearer {token}"},
    )

    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers


async def _claim(app: FastAPI, credential_id: str, key: str) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    async with app.state.runtime.database.transaction() as conn:
        await conn.execute(
            insert(idempotency_keys).values(
                credential_id=credential_id,
                idempotency_key=key,
                request_hash="from an earlier request",
                status=200,
                headers="{}",
                body=b"stale",
                expires_at=past,
            )
        )


async def test_a_repeat_while_the_first_is_running_is_409(
    both: httpx.AsyncClient,
    app: FastAPI,
    credential: credentials.IssuedCredential,
    client_id: int,
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs writers one at a time: a repeat waits and gets the replay")
    url = customer_url(client_id, "c1")
    lock = idempotency.lock_id(credential.credential_id, "k-running")
    async with app.state.runtime.database.transaction() as first_request:
        await first_request.execute(text("SELECT pg_advisory_xact_lock(:l)"), {"l": lock})
        repeat = await both.put(url, json=person(), headers={"Idempotency-Key": "k-running"})

    assert repeat.status_code == 409
    assert repeat.headers["content-type"] == "application/problem+json"
    assert (await both.get(url)).status_code == 404


async def test_an_expired_key_can_be_used_again(
    both: httpx.AsyncClient, app: FastAPI, credential: credentials.IssuedCredential, client_id: int
) -> None:
    await _claim(app, credential.credential_id, "k-old")

    response = await both.put(
        customer_url(client_id, "c1"), json=person(), headers={"Idempotency-Key": "k-old"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there"])
async def test_an_unusable_key_is_a_400(both: httpx.AsyncClient, client_id: int, key: str) -> None:
    response = await both.put(
        customer_url(client_id, "c1"), json=person(), headers={"Idempotency-Key": key}
    )

    assert response.status_code == 400
    assert response.json()["invalidParameters"][0]["name"] == "Idempotency-Key"


async def test_another_client_id_in_the_same_credential_is_not_confused(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    first, second = new_client_id(), new_client_id()
    issued = await create_credential(app, first, second)
    client.headers["Authorization"] = f"Bearer {await token_for(client, issued)}"

    one = await client.put(
        customer_url(first, "c1"), json=person(), headers={"Idempotency-Key": "k"}
    )
    two = await client.put(
        customer_url(second, "c1"), json=person(), headers={"Idempotency-Key": "k"}
    )

    assert one.status_code == 200
    assert two.status_code == 422

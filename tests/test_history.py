"""Every change leaves a history entry with old and new values; personal data masked."""

import httpx
from fastapi import FastAPI

from customer_registry.auth import credentials
from tests.conftest import create_credential, new_client_id, token_for
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post


def history_url(client_id: int, number: str) -> str:
    return f"/registry/v1/clients/{client_id}/customers/{number}/history"


async def test_create_and_update_are_recorded_with_old_and_new_values(
    horizon: httpx.AsyncClient, client_id: int, credential: credentials.IssuedCredential
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person(), headers={"X-Request-ID": "r-1"})
    await horizon.put(customer_url(client_id, "c1"), json=person(email="new@mail.com"))

    response = await horizon.get(history_url(client_id, "c1"))

    assert response.status_code == 200
    created, updated = response.json()["items"]
    assert created["version"] == 1
    assert created["dialect"] == "horizon"
    assert created["credentialId"] == credential.credential_id
    assert created["requestId"] == "r-1"
    assert {"field": "firstName", "old": None, "new": "Tom"} in created["changes"]
    assert updated["version"] == 2
    assert updated["changes"] == [
        {"field": "email", "old": "tom.customer@mail.com", "new": "new@mail.com"}
    ]


async def test_personal_data_is_masked_in_the_history(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person())

    response = await horizon.get(history_url(client_id, "c1"))

    assert "02016126007" not in response.text
    assert {"field": "ssn", "old": None, "new": "*********07"} in (
        response.json()["items"][0]["changes"]
    )


async def test_a_write_that_changes_nothing_adds_no_entry(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person())
    await horizon.put(customer_url(client_id, "c1"), json=person())

    assert len((await horizon.get(history_url(client_id, "c1"))).json()["items"]) == 1


async def test_writes_through_both_dialects_are_recorded_with_their_dialect(
    horizon: httpx.AsyncClient, client_id: int, credential: credentials.IssuedCredential
) -> None:
    keyed = {"X-Subscription-Key": credential.subscription_key}
    await horizon.post(CUSTOMERS, json=seed_post(), headers=keyed)
    await horizon.put(customer_url(client_id, "c1631704458"), json=person())

    items = (await horizon.get(history_url(client_id, "c1631704458"))).json()["items"]

    assert [item["dialect"] for item in items] == ["subscriptions", "horizon"]
    changed = {change["field"] for change in items[1]["changes"]}
    assert {"firstName", "street", "streetNumber", "ssn"} <= changed
    assert "birthDate" not in changed


async def test_history_of_an_unknown_customer_is_404(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await horizon.get(history_url(client_id, "nobody"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_history_needs_a_token_of_the_client(
    client: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    other = await create_credential(app, new_client_id())
    headers = {"Authorization": f"Bearer {await token_for(client, other)}"}

    assert (await client.get(history_url(client_id, "c1"))).status_code == 401
    assert (await client.get(history_url(client_id, "c1"), headers=headers)).status_code == 403

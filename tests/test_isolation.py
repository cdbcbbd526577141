"""Tenant isolation: another client's credential never reads or writes this client's data."""

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import create_credential, new_client_id, token_for
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

NUMBER = "c1631704458"


def _horizon_calls(client_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    base = f"/customer/v1/clients/{client_id}"
    search: dict[str, object] = {"searchValue": NUMBER, "searchColumn": "customerNumber"}
    lookup: dict[str, object] = {"lookupField": "PhoneNumber", "lookupValue": "+4712345678"}
    return [
        ("PUT", customer_url(client_id, NUMBER), person()),
        ("GET", customer_url(client_id, NUMBER), None),
        ("HEAD", customer_url(client_id, NUMBER), None),
        ("POST", f"{base}/customers/search", search),
        ("POST", f"{base}/lookup/customer", lookup),
        ("GET", f"/registry/v1/clients/{client_id}/customers/{NUMBER}/history", None),
        ("GET", f"/registry/v1/clients/{client_id}/customers/{NUMBER}/personal-data", None),
        ("DELETE", f"/registry/v1/clients/{client_id}/customers/{NUMBER}", None),
    ]


async def _snapshot(both: httpx.AsyncClient, client_id: int) -> list[object]:
    return [
        (await both.get(customer_url(client_id, NUMBER))).json(),
        (await both.get(f"{CUSTOMERS}/{NUMBER}")).json(),
        (await both.get(f"/registry/v1/clients/{client_id}/customers/{NUMBER}/history")).json(),
    ]


@pytest.mark.parametrize("call", range(8))
async def test_another_clients_token_is_refused_on_every_horizon_route(
    both: httpx.AsyncClient, app: FastAPI, client_id: int, call: int
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    before = await _snapshot(both, client_id)
    intruder = await create_credential(app, new_client_id())
    method, url, body = _horizon_calls(client_id)[call]

    response = await both.request(
        method,
        url,
        json=body,
        headers={"Authorization": f"Bearer {await token_for(both, intruder)}"},
    )

    assert response.status_code == 403
    assert NUMBER not in response.text
    assert await _snapshot(both, client_id) == before


async def test_another_clients_key_is_confined_to_its_own_client(
    both: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    before = await _snapshot(both, client_id)
    intruder = {
        "X-Subscription-Key": (await create_credential(app, new_client_id())).subscription_key
    }

    get = await both.get(f"{CUSTOMERS}/{NUMBER}", headers=intruder)
    put = await both.put(f"{CUSTOMERS}/{NUMBER}", json=seed_post(firstName="Eve"), headers=intruder)
    post = await both.post(CUSTOMERS, json=seed_post(firstName="Eve"), headers=intruder)

    assert (get.status_code, put.status_code, post.status_code) == (404, 404, 200)
    assert "Ray" not in get.text
    assert post.json()["customerNumber"] != before[0]  # its own new customer, not ours
    assert await _snapshot(both, client_id) == before

"""An erasure request answered in one call: the customer is gone from every API and every
table, its history and events keep tombstones, and its number can be used afresh."""

import asyncio
import json

import httpx
import pytest

from tests.events.conftest import read_all
from tests.horizon.conftest import customer_url
from tests.horizon.test_search import numbers, search
from tests.privacy.conftest import (
    PERSON,
    WRITTEN,
    erase_url,
    json_of,
    personal_data_url,
    write_twice,
)
from tests.subscriptions.conftest import CUSTOMERS, seed_post


async def test_an_erased_customer_is_gone_from_both_apis_search_and_lookup(
    both: httpx.AsyncClient, client_id: int
) -> None:
    await write_twice(both, client_id, "p1")

    assert (await both.delete(erase_url(client_id, "p1"))).status_code == 204

    assert (await both.get(customer_url(client_id, "p1"))).status_code == 404
    assert (await both.head(customer_url(client_id, "p1"))).status_code == 404
    assert (await both.get(f"{CUSTOMERS}/p1")).status_code == 404
    assert numbers(await search(both, client_id, "name", "Vesterheim")) == []
    assert numbers(await search(both, client_id, "ssn", "02016126007")) == []
    lookup = {"lookupField": "IdentificationNumber", "lookupValue": "02016126007"}
    found = await both.post(f"/customer/v1/clients/{client_id}/lookup/customer", json=lookup)
    assert found.status_code == 404
    history = await both.get(f"/registry/v1/clients/{client_id}/customers/p1/history")
    assert history.status_code == 404
    assert (await both.get(personal_data_url(client_id, "p1"))).status_code == 404


async def test_a_second_erasure_is_a_404_problem(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await write_twice(horizon, client_id, "p1")
    await horizon.delete(erase_url(client_id, "p1"))

    again = await horizon.delete(erase_url(client_id, "p1"))

    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


async def test_the_number_of_an_erased_customer_makes_a_new_customer(
    both: httpx.AsyncClient, client_id: int
) -> None:
    created = await both.put(customer_url(client_id, "p1"), json=PERSON)
    old_payment_id = created.json()["paymentMeans"]["paymentId"]
    signed_up = await both.post(CUSTOMERS, json=seed_post(customerNumber="s1"))
    old_internal = signed_up.json()["customerNumber"]
    for number in ("p1", "s1"):
        await both.delete(erase_url(client_id, number))

    again = await both.put(customer_url(client_id, "p1"), json=PERSON)
    posted = await both.post(CUSTOMERS, json=seed_post(customerNumber="s1"))

    assert again.status_code == 200, again.text
    assert again.headers["etag"] == '"1"'
    assert again.json()["paymentMeans"]["paymentId"] != old_payment_id
    assert posted.status_code == 200, posted.text
    assert posted.json()["customerNumber"] != old_internal
    history = json_of(await both.get(f"/registry/v1/clients/{client_id}/customers/p1/history"))
    assert [entry["version"] for entry in history["items"]] == [1]


async def test_events_keep_their_place_without_the_data_and_an_erased_event_follows(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await write_twice(horizon, client_id, "p1")

    await horizon.delete(erase_url(client_id, "p1"), headers={"X-Request-ID": "erase-1"})

    events, _ = await read_all(horizon, client_id)
    assert [(e["type"], e["version"]) for e in events] == [
        ("customer.created", 1),
        ("customer.updated", 2),
        ("customer.erased", 3),
    ]
    assert all("customer" not in e and "previous" not in e for e in events)
    erased = events[-1]
    assert erased["source"] == "registry"
    assert erased["requestId"] == "erase-1"
    assert "ssn" in erased["changedFields"]
    for value in WRITTEN:
        assert value not in json.dumps(events), value


async def test_a_stored_idempotent_answer_is_erased_with_the_customer(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    url, key = customer_url(client_id, "p1"), {"Idempotency-Key": "k-1"}
    assert (await horizon.put(url, json=PERSON, headers=key)).status_code == 200
    assert (await horizon.put(url, json=PERSON, headers=key)).headers["idempotent-replayed"]

    await horizon.delete(erase_url(client_id, "p1"))
    repeated = await horizon.put(url, json=PERSON, headers=key)

    # Nothing of the erased customer is replayed: the request runs again, and creates anew.
    assert repeated.status_code == 200
    assert "idempotent-replayed" not in repeated.headers


@pytest.mark.slow
async def test_concurrent_writes_and_an_erasure_leave_no_half_erased_customer(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await write_twice(horizon, client_id, "p1")
    url = customer_url(client_id, "p1")
    writes = [horizon.put(url, json={**PERSON, "email": f"w{i}@example.org"}) for i in range(20)]
    erasure = horizon.delete(erase_url(client_id, "p1"))

    answers = await asyncio.gather(*writes[:10], erasure, *writes[10:])

    assert all(answer.status_code in (200, 201, 204) for answer in answers), [
        answer.text for answer in answers
    ]
    current = json_of(await horizon.get(url))  # written again after the erasure
    history = json_of(await horizon.get(f"/registry/v1/clients/{client_id}/customers/p1/history"))
    versions = [entry["version"] for entry in history["items"]]
    assert versions == list(range(1, len(versions) + 1))
    assert history["items"][0]["changes"][0]["old"] is None  # a creation, nothing from before
    assert current["email"].startswith("w")
    events, _ = await read_all(horizon, client_id)
    erased_at = next(i for i, e in enumerate(events) if e["type"] == "customer.erased")
    after = [(e["type"], e["version"]) for e in events[erased_at + 1 :]]
    assert after == [("customer.created", 1)] + [
        ("customer.updated", v) for v in range(2, len(after) + 1)
    ]

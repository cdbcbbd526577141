"""An event exists if and only if its change committed, whichever path made the change."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from customer_registry.customers import outbox, service
from customer_registry.customers.model import Audit, Customer, CustomerWrite
from customer_registry.db import Store, customer_events, customer_history
from tests.events.conftest import read_all
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post
from tests.test_bulk import horizon_row, import_file, write_rows


async def _counts(app: FastAPI, client_id: int) -> tuple[int, int]:
    """The client's history rows and events."""
    async with app.state.runtime.database.reading() as conn:
        counted = [
            await conn.fetchval(
                select(func.count()).select_from(table).where(table.c.client_id == client_id)
            )
            for table in (customer_history, customer_events)
        ]
    return counted[0], counted[1]


async def test_a_create_and_an_update_make_one_event_each(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person(), headers={"X-Request-ID": "r-1"})
    await horizon.put(customer_url(client_id, "c1"), json=person(email="new@mail.com"))

    (created, updated), _ = await read_all(horizon, client_id)

    assert [created["type"], updated["type"]] == ["customer.created", "customer.updated"]
    assert [created["version"], updated["version"]] == [1, 2]
    assert created["requestId"] == "r-1"
    assert created["source"] == updated["source"] == "horizon"
    assert created["clientId"] == client_id
    assert created["customerNumber"] == "c1"
    assert "previous" not in created
    assert {"firstName", "email", "ssn", "countryCode"} <= set(created["changedFields"])
    assert updated["changedFields"] == ["email"]
    assert updated["previous"] == {"email": "tom.customer@mail.com"}
    assert created["id"] != updated["id"]
    assert created["occurredAt"].endswith("Z")
    assert datetime.fromisoformat(created["occurredAt"]) <= datetime.now(UTC)


async def test_the_events_customer_is_the_horizon_representation_without_links(
    both: httpx.AsyncClient, client_id: int
) -> None:
    company = seed_post(customerCategory="COMPANY", companyName="Firma AS")
    company["customer"].update(identificationNumber="987654321", customerNumber="firm-1")
    await both.post(CUSTOMERS, json=company)
    await both.put(customer_url(client_id, "p1"), json=person())

    events, _ = await read_all(both, client_id)
    shown = [(await both.get(customer_url(client_id, n))).json() for n in ("firm-1", "p1")]

    for event, representation in zip(events, shown, strict=True):
        del representation["_links"]
        assert event["customer"] == representation
    assert events[0]["customer"]["company"]["organizationNumber"] == "987654321"
    assert events[0]["source"] == "subscriptions"


async def test_personal_identifiers_are_named_but_their_old_values_never_carried(
    both: httpx.AsyncClient, client_id: int
) -> None:
    body = seed_post()
    await both.post(CUSTOMERS, json=body)
    body["customer"].update(identificationNumber="700XX9", birthDate="1970-01-01", email="n@x.no")
    await both.post(CUSTOMERS, json=body)

    _, updated = (await read_all(both, client_id))[0]

    assert {"ssn", "birthDate", "email"} <= set(updated["changedFields"])
    assert set(updated["previous"]) == set(updated["changedFields"]) - {"ssn", "birthDate"}


async def test_a_write_that_changes_nothing_makes_no_event(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    for _ in range(3):
        await horizon.put(customer_url(client_id, "c1"), json=person())
    replayed = {"Idempotency-Key": "k-1"}
    for _ in range(2):
        body = person(email="once@mail.com")
        response = await horizon.put(customer_url(client_id, "c1"), json=body, headers=replayed)
        assert response.status_code == 200

    events, _ = await read_all(horizon, client_id)

    assert [event["version"] for event in events] == [1, 2]


async def test_a_rolled_back_change_leaves_no_event(app: FastAPI, client_id: int) -> None:
    customer = Customer(client_id=client_id, customer_number="c1", type="Person", last_name="X")
    write = CustomerWrite(customer, frozenset({"type", "last_name"}))

    async def write_then_fail() -> None:
        async with app.state.runtime.database.transaction() as conn:
            await service.upsert(Store(conn, app.state.runtime.vault), write, Audit("horizon"))
            raise RuntimeError("after the write")

    with pytest.raises(RuntimeError, match="after the write"):
        await write_then_fail()

    assert await _counts(app, client_id) == (0, 0)


async def test_imports_make_events_with_source_import_and_no_request_id(
    env: dict[str, str],
    horizon: httpx.AsyncClient,
    app: FastAPI,
    client_id: int,
    tmp_path: Path,
) -> None:
    rows = [horizon_row(f"i{n}") for n in range(5)]
    changed = [horizon_row("i0", email="changed@mail.com"), *rows[1:]]
    for name, written in (("a", rows), ("b", changed)):
        path = write_rows(tmp_path / f"{name}.jsonl", written)
        await import_file(env, path, client_id, "--dialect", "horizon")

    events, _ = await read_all(horizon, client_id)

    assert [(e["customerNumber"], e["version"]) for e in events] == [
        *((f"i{n}", 1) for n in range(5)),
        ("i0", 2),
    ]
    assert {event["source"] for event in events} == {"import"}
    assert not any("requestId" in event for event in events)
    assert events[-1]["previous"] == {"email": "tom.customer@mail.com"}


async def test_every_history_entry_has_exactly_one_event(
    both: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    for n in range(3):
        await both.put(customer_url(client_id, f"h{n}"), json=person(email=f"{n}@mail.com"))
        await both.put(customer_url(client_id, f"h{n}"), json=person(email=f"{n}b@mail.com"))
        await both.post(CUSTOMERS, json=seed_post(customerNumber=f"s{n}"))
        await both.post(CUSTOMERS, json=seed_post(customerNumber=f"s{n}"))  # unchanged

    history, events = await _counts(app, client_id)
    feed, _ = await read_all(both, client_id)

    assert history == events == len(feed) == 9


def test_an_erasure_event_carries_no_customer_and_no_previous_values() -> None:
    erased = outbox.erasure(
        client_id=1,
        customer_number="c1",
        version=4,
        at=datetime.now(UTC),
        audit=Audit("registry", "cr_1", "r-9"),
        fields=["first_name", "ssn"],
    )

    assert erased["type"] == "customer.erased"
    assert erased["changed_fields"] == '["firstName","ssn"]'
    assert erased["customer"] is erased["previous"] is erased["organization_number"] is None


async def test_scrubbing_a_customer_removes_its_personal_data_from_its_events(
    both: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await both.put(customer_url(client_id, "gone"), json=person())
    await both.put(customer_url(client_id, "gone"), json=person(email="gone@mail.com"))
    await both.put(customer_url(client_id, "kept"), json=person())

    async with app.state.runtime.database.transaction() as conn:
        await outbox.scrub(conn, client_id, "gone")
    events, _ = await read_all(both, client_id)

    scrubbed: list[dict[str, Any]] = [e for e in events if e["customerNumber"] == "gone"]
    assert [e["version"] for e in scrubbed] == [1, 2]
    assert not any("customer" in e or "previous" in e for e in scrubbed)
    assert "customer" in events[-1]

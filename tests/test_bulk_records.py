"""The rows a batch writes are those a single write would write, and a batch's creates that
meet a stored customer are skipped, not failed."""

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_registry.customers import (
    bulk_repository,
    changes,
    copy_writes,
    history_repository,
    outbox,
    sealing,
)
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    SEALED_FIELDS,
    Audit,
    Customer,
    FieldChange,
    HistoryEntry,
)
from customer_registry.db import Store
from customer_registry.db.sqlite import SqliteTx
from customer_registry.vault import Vault

_AUDIT = Audit("import", None, "import:test:1")
_CHARACTERS = st.characters(exclude_categories=["Cs"])  # sealed values are UTF-8 encoded
_TEXT = st.text(_CHARACTERS, max_size=12)
_PHONE = st.text("+0123456789 -", max_size=16) | st.sampled_from(
    ["+4799777560", "496 82 180", "+4915112345678", "030 1234567", "+37258774XXX"]
)
_CUSTOMERS = st.builds(
    Customer,
    client_id=st.integers(1, 2**31),
    customer_number=_TEXT.filter(bool),
    type=st.sampled_from(["Person", "Company"]),
    first_name=st.none() | _TEXT,
    last_name=st.none() | _TEXT,
    company_name=st.none() | _TEXT,
    ssn=st.none() | _TEXT,
    organization_number=st.none() | _TEXT,
    tax_identification_number=st.none() | _TEXT,
    birth_date=st.none() | st.dates(),
    phone_number=st.none() | _PHONE,
    mobile_phone=st.none() | _PHONE,
    country_code=st.none() | st.sampled_from(["NO", "DE", "SE", "US", "no", "XX"]),
    existing_customer=st.none() | st.booleans(),
    payment_id=st.just("123456789012345678906"),
    internal_number=st.just("123456789"),
    sign_up_id=st.just(123456789),
    version=st.integers(1, 5),
    created_at=st.just(datetime(2026, 1, 2, tzinfo=UTC)),
    updated_at=st.just(datetime(2026, 1, 3, tzinfo=UTC)),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    # Rows are built without the database; the store's connection is never used.
    vault = Vault.open(tmp_path_factory.mktemp("vault") / "key")
    return Store(SqliteTx(sqlite3.connect(":memory:")), vault)


def _opened(store: Store, customer: Customer, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its personal data decrypted: sealing draws a new nonce each time."""
    number = customer.customer_number
    where = {name: sealing.context(customer.client_id, number, name) for name in SEALED_FIELDS}
    key = customer.data_key
    return {
        name: sealing.open_text(store, customer.client_id, number, key, value, where[name])
        if name in SEALED_FIELDS and value is not None
        else value
        for name, value in row.items()
    }


@settings(max_examples=300, deadline=None)
@given(customer=_CUSTOMERS)
def test_a_copied_record_holds_a_single_writes_row(store: Store, customer: Customer) -> None:
    row = sealing.sealed_row(store, customer, CUSTOMER_FIELDS)
    record = dict(zip(copy_writes.NAMES, bulk_repository.record(store, customer), strict=True))

    assert _opened(store, customer, record) == _opened(store, customer, row)


_IDS = ("100000000000000000006", "100000001", 100000002)


@settings(max_examples=300, deadline=None)
@given(customer=_CUSTOMERS, brings_ids=st.booleans())
def test_a_created_customers_records_are_those_of_its_creation(
    store: Store, customer: Customer, brings_ids: bool
) -> None:
    if not brings_ids:
        customer = dataclasses.replace(customer, payment_id="", internal_number="", sign_up_id=0)
    customer = sealing.keyed(store, customer)
    now = datetime.now(UTC)
    new, entry = changes.creation(customer, _AUDIT, now, _IDS)

    record, history, event = bulk_repository.created(store, customer, _AUDIT, now, _IDS)

    expected = dict(zip(copy_writes.NAMES, bulk_repository.record(store, new), strict=True))
    found = dict(zip(copy_writes.NAMES, record, strict=True))
    assert _opened(store, customer, found) == _opened(store, customer, expected)
    expected_history = history_repository.record(store, entry, customer.data_key)
    assert history[:-1] == expected_history[:-1]
    assert _opened_changes(store, entry, history[-1], customer.data_key) == _opened_changes(
        store, entry, expected_history[-1], customer.data_key
    )
    assert _opened_event(store, event) == _opened_event(store, outbox.record(store, new, entry))


def _opened_event(store: Store, event: outbox.Record) -> outbox.Record:
    """``event`` without its random id, its organisation number decrypted."""
    sealed = event["organization_number"]
    where = outbox.organization_context(event["client_id"], event["event_id"])
    opened = None if sealed is None else store.vault.decrypt(sealed, where)
    return {**event, "event_id": None, "organization_number": opened}


_VALUES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.dates()
    | st.text(_CHARACTERS)
)
_FIELDS = st.sampled_from(sorted({*CUSTOMER_FIELDS, *SEALED_FIELDS, 'a "field"', "ü"}))


def _opened_changes(
    store: Store, entry: HistoryEntry, text: str, key: str | None = None
) -> list[dict[str, Any]]:
    """The changes of a history row, personal data decrypted."""
    changed: list[dict[str, Any]] = json.loads(text)
    client_id, number = entry.client_id, entry.customer_number
    for change in changed:
        if change["field"] in SEALED_FIELDS:
            where = sealing.history_context(client_id, number, change["field"])
            for side in ("old", "new"):
                if change[side] is not None:
                    token = change[side]
                    change[side] = sealing.open_text(store, client_id, number, key, token, where)
    return changed


@settings(max_examples=300, deadline=None)
@given(changed=st.lists(st.tuples(_FIELDS, _VALUES, _VALUES), max_size=6))
def test_history_changes_are_the_json_dumps_of_the_changes(
    store: Store, changed: list[tuple[str, object, object]]
) -> None:
    entry = HistoryEntry(7, "c1", 2, datetime.now(UTC), _AUDIT,
                         tuple(FieldChange(*change) for change in changed))  # fmt: skip
    # What the history wrote before it wrote the JSON text itself.
    listed = [
        {"field": c.field, "old": _sealed(c.field, c.old), "new": _sealed(c.field, c.new)}
        for c in entry.changes
    ]
    reference = json.dumps(listed, default=str)

    written = history_repository.row(store, entry, None)["changes"]

    if not any(c.field in SEALED_FIELDS for c in entry.changes):
        assert written == reference
    assert _opened_changes(store, entry, written) == json.loads(reference)


def _sealed(field: str, value: object) -> object:
    """A sealed field's value as the history seals it: its text."""
    return str(value) if field in SEALED_FIELDS and value is not None else value


def _customer(client_id: int, number: str, **values: Any) -> Customer:
    fields = {"company_name": "ACME", "street": "Road 1", "postal_code": "1",
              "postal_place": "Oslo", "country_code": "NO"}  # fmt: skip
    return Customer(client_id=client_id, customer_number=number, type="Company",
                    **fields | values)  # fmt: skip


async def _stored(app: FastAPI, client_id: int) -> dict[str, Customer]:
    async with app.state.runtime.database.transaction() as conn:
        store = Store(conn, app.state.runtime.vault)
        return await bulk_repository.lock_many(store, client_id, ["c0", "c1", "c2", "c3"])


async def _create_many(app: FastAPI, customers: list[Customer]) -> set[str]:
    async with app.state.runtime.database.transaction() as conn:
        store = Store(conn, app.state.runtime.vault)
        creates = [(customer, _AUDIT) for customer in customers]
        return await bulk_repository.create_many(store, creates, datetime.now(UTC))


async def test_a_create_whose_customer_was_stored_meanwhile_is_skipped(
    app: FastAPI, client_id: int
) -> None:
    await _create_many(app, [_customer(client_id, "c2", company_name="First")])
    before = await _stored(app, client_id)

    skipped = await _create_many(
        app, [_customer(client_id, n, company_name="Second") for n in ("c1", "c2", "c3")]
    )

    stored = await _stored(app, client_id)
    assert skipped == {"c2"}
    assert {n: c.company_name for n, c in stored.items()} == {
        "c1": "Second", "c2": "First", "c3": "Second",
    }  # fmt: skip
    assert stored["c2"] == before["c2"]


_GIVEN = {"payment_id": "123456789012345678906", "internal_number": "123456789",
          "sign_up_id": 987654321}  # fmt: skip


@pytest.mark.parametrize("identifier", sorted(_GIVEN))
async def test_a_create_with_an_identifier_held_already_is_skipped(
    app: FastAPI, client_id: int, identifier: str
) -> None:
    given = {identifier: _GIVEN[identifier]}
    await _create_many(app, [_customer(client_id, "c0", **given)])

    skipped = await _create_many(
        app, [_customer(client_id, "c1"), _customer(client_id, "c2", **given),
              _customer(client_id, "c3")],
    )  # fmt: skip

    assert skipped == {"c2"}
    assert set(await _stored(app, client_id)) == {"c0", "c1", "c3"}


@pytest.mark.parametrize("identifier", sorted(_GIVEN))
async def test_of_two_creates_with_one_identifier_the_first_is_written(
    app: FastAPI, client_id: int, identifier: str
) -> None:
    given = {identifier: _GIVEN[identifier]}
    creates = [_customer(client_id, "c1", **given), _customer(client_id, "c2", **given),
               _customer(client_id, "c3")]  # fmt: skip

    skipped = await _create_many(app, creates)

    stored = await _stored(app, client_id)
    assert skipped == {"c2"}
    assert set(stored) == {"c1", "c3"}
    assert getattr(stored["c1"], identifier) == _GIVEN[identifier]

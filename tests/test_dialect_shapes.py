"""Each dialect's response bodies are the documented response models, member for member and in
their order: the hot routes send the dicts the schemas build without validating them, so this
is what keeps the OpenAPI document honest."""

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from customer_registry.customers import service
from customer_registry.customers.model import UNCONDITIONAL, Audit, Customer
from customer_registry.history import schemas as history
from customer_registry.horizon import responses as horizon_out
from customer_registry.horizon import schemas as horizon
from customer_registry.subscriptions import responses as subscriptions_out
from customer_registry.subscriptions import schemas as subscriptions
from tests.customers.conftest import full_person, person, store_of, write

_BASE = "https://registry.test"
_STORED: dict[str, Any] = {
    "payment_id": "291069002072200000004", "internal_number": "700427690",
    "sign_up_id": 702091815, "version": 3, "created_at": datetime(2026, 1, 2, tzinfo=UTC),
    "updated_at": datetime(2026, 1, 3, tzinfo=UTC),
}  # fmt: skip


def _stored(customer: Customer) -> Customer:
    return dataclasses.replace(customer, **_STORED)


_FULL_PERSON = _stored(full_person(1234, "customer-person-1"))
_FULL_COMPANY = dataclasses.replace(_FULL_PERSON, type="Company", customer_number="ø/ #?")
_MINIMAL_PERSON = _stored(person(1234, "p"))
_MINIMAL_COMPANY = _stored(
    Customer(client_id=1234, customer_number="c", type="Company", company_name="ACME",
             street="Road", postal_code="1", postal_place="Oslo", country_code="NO")
)  # fmt: skip
# A canonical record no dialect's write leaves so bare: the shapes hold even so.
_BARE = _stored(Customer(client_id=1234, customer_number="b", type="Person"))
CUSTOMERS = {
    "full person": _FULL_PERSON,
    "full company": _FULL_COMPANY,
    "minimal person": _MINIMAL_PERSON,
    "minimal company": _MINIMAL_COMPANY,
}
EVERY_CUSTOMER = [*CUSTOMERS.values(), _BARE]
_IDS = [*CUSTOMERS, "bare"]


def _ordered(text: bytes | str) -> Any:
    """A JSON text's value with each object's members as a list: order counts."""
    return json.loads(text, object_pairs_hook=list)


def assert_documented(model: type[BaseModel], body: dict[str, Any]) -> None:
    """``body``, sent as the routes send it, fits ``model``'s documented JSON Schema (where an
    omitted member is never null), and is an instance of ``model`` with no member the model
    lacks, none it fills in, in the model's order."""
    sent = orjson.dumps(body)
    schema = jsonschema_rs.validator_for(model.model_json_schema(mode="serialization"))
    assert [error.message for error in schema.iter_errors(orjson.loads(sent))] == []
    parsed = model.model_validate_json(sent)
    assert _ordered(parsed.model_dump_json(by_alias=True, exclude_unset=True)) == _ordered(sent)


@pytest.mark.parametrize("customer", EVERY_CUSTOMER, ids=_IDS)
def test_the_horizon_representation_is_the_documented_customer(customer: Customer) -> None:
    assert_documented(horizon_out.CustomerOut, horizon.from_customer(customer, _BASE))


def test_the_horizon_representation_shows_what_its_customer_has() -> None:
    full = horizon.from_customer(_FULL_PERSON, _BASE)
    minimal = horizon.from_customer(_MINIMAL_COMPANY, _BASE)

    assert list(full) == ["_links", "customerNumber", "type", "person", "company",
                          "phoneNumber", "email", "paymentMeans", "address"]  # fmt: skip
    assert list(full["address"]) == ["addressLine", "addressLine2", "addressLine3",
                                     "postalCode", "postalPlace", "countryCode"]  # fmt: skip
    assert list(minimal) == ["_links", "customerNumber", "type", "company", "paymentMeans",
                             "address"]  # fmt: skip


def test_a_horizon_search_page_is_the_documented_page() -> None:
    items = [horizon.from_customer(customer, _BASE) for customer in EVERY_CUSTOMER]

    assert_documented(horizon_out.SearchOut, {"items": items, "total": 12})
    assert_documented(horizon_out.SearchOut, {"items": [], "total": 0})


@pytest.mark.parametrize("customer", EVERY_CUSTOMER, ids=_IDS)
def test_the_subscriptions_representation_is_the_documented_customer(customer: Customer) -> None:
    assert_documented(subscriptions_out.CustomerOut, subscriptions.from_customer(customer))


def test_the_subscriptions_representation_shows_what_its_customer_has() -> None:
    full = subscriptions.from_customer(_FULL_PERSON)
    minimal = subscriptions.from_customer(_MINIMAL_COMPANY)

    assert len(full) == len(subscriptions_out.CustomerOut.model_fields)
    assert len(full["address"]) == len(subscriptions_out.AddressOut.model_fields)
    assert minimal == {
        "customerNumber": "c",
        "address": {"street": "Road", "postalCode": "1", "postalPlace": "Oslo",
                    "countryCode": "NO"},
        "companyName": "ACME", "customerCategory": "COMPANY",
    }  # fmt: skip


@pytest.mark.parametrize("customer", EVERY_CUSTOMER, ids=_IDS)
def test_the_subscriptions_sign_up_answer_is_the_documented_one(customer: Customer) -> None:
    assert_documented(subscriptions_out.SignUpOut, subscriptions.sign_up(customer))


async def test_the_history_is_the_documented_history(app: FastAPI, client_id: int) -> None:
    """Values as the history stores and masks them: read back from the database."""
    full = full_person(client_id, "c1")
    async with store_of(app) as store:
        await service.upsert(store, write(full), Audit("subscriptions", "cred-1", "r-1"))
        await service.upsert(store, write(person(client_id, "c1")), Audit("import"))
        await service.upsert(
            store, write(dataclasses.replace(full, existing_customer=False)), Audit("horizon"),
            UNCONDITIONAL,
        )  # fmt: skip
        entries = await service.history(store, client_id, "c1")

    body = history.from_history(entries)

    assert [entry["version"] for entry in body["items"]] == [1, 2, 3]
    assert {change["field"] for change in body["items"][1]["changes"]} >= {"ssn", "birthDate"}
    assert_documented(history.HistoryOut, body)

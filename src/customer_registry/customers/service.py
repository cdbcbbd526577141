"""Customer use cases in domain words. Never imports FastAPI, never commits."""

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from customer_registry.customers import repository, rules
from customer_registry.customers.errors import (
    CustomerChanged,
    CustomerNotFound,
    CustomerNumberTaken,
    PersonNotFound,
)
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    STORE_FIELDS,
    UNCONDITIONAL,
    Condition,
    Customer,
    CustomerWrite,
    LookupKey,
    SearchQuery,
    SearchResult,
)

_DATA_FIELDS = frozenset(CUSTOMER_FIELDS) - STORE_FIELDS
PersonDirectory = Callable[[LookupKey], Awaitable[Customer | None]]


def _insert_values(customer: Customer) -> dict[str, Any]:
    now = datetime.now(UTC)
    data = {name: getattr(customer, name) for name in _DATA_FIELDS}
    derived = rules.derived_columns(customer, _DATA_FIELDS)
    return {**data, **derived, "version": 1, "created_at": now, "updated_at": now}


def _update_columns(write: CustomerWrite) -> list[str]:
    return sorted(write.owned | rules.derived_columns(write.customer, write.owned).keys())


async def upsert(
    conn: AsyncConnection, write: CustomerWrite, condition: Condition = UNCONDITIONAL
) -> Customer:
    """Create the customer, or replace the fields the write owns."""
    if condition.needs_existing:
        return await update(conn, write, condition)
    values = _insert_values(write.customer)
    if not condition.create_only:
        return await repository.upsert(conn, values, _update_columns(write))
    created = await repository.insert_new(conn, values)
    if created is None:
        raise CustomerChanged(write.customer.client_id, write.customer.customer_number)
    return created


async def update(
    conn: AsyncConnection, write: CustomerWrite, condition: Condition = UNCONDITIONAL
) -> Customer:
    """Replace the fields the write owns of an existing customer."""
    customer = write.customer
    values = _insert_values(customer)
    changes = {name: values[name] for name in [*_update_columns(write), "updated_at"]}
    updated = await repository.update_existing(
        conn, customer.client_id, customer.customer_number, changes, condition.versions
    )
    if updated is not None:
        return updated
    if condition.needs_existing:
        raise CustomerChanged(customer.client_id, customer.customer_number)
    raise CustomerNotFound(customer.client_id, customer.customer_number)


async def get(conn: AsyncConnection, client_id: int, customer_number: str) -> Customer:
    customer = await repository.get(conn, client_id, customer_number)
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    return customer


async def search(conn: AsyncConnection, client_id: int, query: SearchQuery) -> SearchResult:
    items, total = await repository.search(conn, client_id, query)
    return SearchResult(items=items, total=total)


async def _find_stored(conn: AsyncConnection, client_id: int, key: LookupKey) -> Customer | None:
    if key.field == "IdentificationNumber":
        return await repository.find_by_identification(conn, client_id, key.value)
    e164 = rules.phone_e164(key.value) or key.value
    return await repository.find_by_phone(conn, client_id, e164)


async def lookup(
    conn: AsyncConnection,
    client_id: int,
    key: LookupKey,
    *,
    directory: PersonDirectory | None,
    customer_number: str | None = None,
    individual_risk_score: str | None = None,
) -> tuple[Customer, bool]:
    """Find a person in the store, else in the person directory and create them there.

    Returns the customer and whether it was created now.
    """
    stored = await _find_stored(conn, client_id, key)
    if stored is not None:
        return stored, False
    found = await directory(key) if directory else None
    if found is None:
        raise PersonNotFound(key.field)
    number = customer_number or rules.new_customer_number()
    candidate = dataclasses.replace(
        found,
        client_id=client_id,
        customer_number=number,
        individual_risk_score=individual_risk_score or found.individual_risk_score,
    )
    created = await repository.insert_new(conn, _insert_values(candidate))
    if created is None:
        raise CustomerNumberTaken(client_id, number)
    return created, True

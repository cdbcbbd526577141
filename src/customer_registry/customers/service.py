"""Customer use cases in domain words. Never imports FastAPI, never commits.

Every write locks the stored customer, compares, and writes only what changed, together with
a history entry holding the old and new value of each changed field: one transaction, so
the history can never disagree with the customer.
"""

import dataclasses
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any

from customer_registry.customers import history_repository, repository, rules
from customer_registry.customers.errors import (
    CustomerChanged,
    CustomerNotFound,
    CustomerNumberTaken,
    PersonNotFound,
)
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    SEALED_FIELDS,
    STORE_FIELDS,
    UNCONDITIONAL,
    Audit,
    Condition,
    Customer,
    CustomerWrite,
    FieldChange,
    HistoryEntry,
    LookupKey,
    SearchQuery,
    SearchResult,
)
from customer_registry.db import Store

PersonDirectory = Callable[[LookupKey], Awaitable[Customer | None]]
_DATA_FIELDS = tuple(name for name in CUSTOMER_FIELDS if name not in STORE_FIELDS)
# Generated identifiers are random: a clash with a stored one is retried with new ones.
_ATTEMPTS = 5


def _fresh(customer: Customer, now: datetime) -> Customer:
    return dataclasses.replace(
        customer,
        payment_id=rules.new_payment_id(),
        internal_number=rules.new_internal_number(),
        sign_up_id=rules.new_sign_up_id(),
        version=1,
        created_at=now,
        updated_at=now,
    )


def _changes(old: Customer | None, new: Customer, fields: Collection[str]) -> list[FieldChange]:
    before = (lambda name: getattr(old, name)) if old else (lambda name: None)
    return [
        FieldChange(name, before(name), getattr(new, name))
        for name in fields
        if before(name) != getattr(new, name)
    ]


async def _record(
    store: Store, customer: Customer, changes: list[FieldChange], audit: Audit
) -> None:
    entry = HistoryEntry(
        customer.client_id,
        customer.customer_number,
        customer.version,
        customer.updated_at or datetime.now(UTC),
        audit,
        tuple(changes),
    )
    await history_repository.add(store, entry)


async def _create(store: Store, customer: Customer, audit: Audit) -> Customer | None:
    """Insert the customer with new ids; None when its number is taken meanwhile."""
    for _ in range(_ATTEMPTS):
        created = await repository.insert_new(store, _fresh(customer, datetime.now(UTC)))
        if created is not None:
            await _record(store, created, _changes(None, created, _DATA_FIELDS), audit)
            return created
        if await repository.lock(store, customer.client_id, customer.customer_number):
            return None
    raise RuntimeError("no unused identifiers found; the id space is nearly exhausted")


async def _apply(store: Store, old: Customer, write: CustomerWrite, audit: Audit) -> Customer:
    changes = _changes(old, write.customer, sorted(write.owned))
    if not changes:
        return old
    new = dataclasses.replace(
        write.customer,
        **{name: getattr(old, name) for name in CUSTOMER_FIELDS if name not in write.owned},
    )
    new = dataclasses.replace(new, version=old.version + 1, updated_at=datetime.now(UTC))
    updated = await repository.update(store, new, [change.field for change in changes])
    await _record(store, updated, changes, audit)
    return updated


async def _save(
    store: Store, write: CustomerWrite, audit: Audit, condition: Condition, *, may_create: bool
) -> Customer:
    customer = write.customer
    key = (customer.client_id, customer.customer_number)
    for _ in range(_ATTEMPTS):
        old = await repository.lock(store, *key)
        if old is None and (condition.needs_existing or not may_create):
            raise CustomerChanged(*key) if condition.needs_existing else CustomerNotFound(*key)
        if old is None:
            created = await _create(store, customer, audit)
            if created is not None:
                return created
            continue  # created concurrently: update it instead
        if condition.create_only or (
            condition.versions is not None and old.version not in condition.versions
        ):
            raise CustomerChanged(*key)
        return await _apply(store, old, write, audit)
    raise RuntimeError("the customer kept changing while it was written")


async def upsert(
    store: Store, write: CustomerWrite, audit: Audit, condition: Condition = UNCONDITIONAL
) -> Customer:
    """Create the customer, or replace the fields the write owns."""
    return await _save(store, write, audit, condition, may_create=True)


async def update(
    store: Store, write: CustomerWrite, audit: Audit, condition: Condition = UNCONDITIONAL
) -> Customer:
    """Replace the fields the write owns of an existing customer."""
    return await _save(store, write, audit, condition, may_create=False)


async def get(store: Store, client_id: int, customer_number: str) -> Customer:
    customer = await repository.get(store, client_id, customer_number)
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    return customer


async def search(store: Store, client_id: int, query: SearchQuery) -> SearchResult:
    items, total = await repository.search(store, client_id, query)
    return SearchResult(items=items, total=total)


def _masked(value: object) -> object:
    if value is None:
        return None
    text = str(value)
    return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 2) + text[-2:]


async def history(store: Store, client_id: int, customer_number: str) -> list[HistoryEntry]:
    """The customer's changes, oldest first, with personal data masked."""
    entries = await history_repository.history(store, client_id, customer_number)
    if not entries:
        raise CustomerNotFound(client_id, customer_number)
    return [
        dataclasses.replace(
            entry,
            changes=tuple(
                FieldChange(c.field, _masked(c.old), _masked(c.new))
                if c.field in SEALED_FIELDS
                else c
                for c in entry.changes
            ),
        )
        for entry in entries
    ]


async def _find_stored(store: Store, client_id: int, key: LookupKey) -> Customer | None:
    if key.field == "IdentificationNumber":
        return await repository.find_by_identification(store, client_id, key.value)
    e164 = rules.phone_e164(key.value) or key.value
    return await repository.find_by_phone(store, client_id, e164)


async def lookup(
    store: Store,
    client_id: int,
    key: LookupKey,
    audit: Audit,
    *,
    directory: PersonDirectory | None,
    customer_number: str | None = None,
    individual_risk_score: str | None = None,
) -> tuple[Customer, bool]:
    """Find a person in the store, else in the person directory and create them there.

    Returns the customer and whether it was created now.
    """
    stored = await _find_stored(store, client_id, key)
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
    created = await _create(store, candidate, audit)
    if created is None:
        raise CustomerNumberTaken(client_id, number)
    return created, True


Reseal = Callable[[Store, Any, int], Awaitable[tuple[int, Any]]]


async def reseal_customers(store: Store, after: Any, limit: int) -> tuple[int, Any]:
    """Re-encrypt one batch of customers with the current key; see ``keys rotate``."""
    return await repository.reseal_customers(store, after, limit)


async def reseal_history(store: Store, after: Any, limit: int) -> tuple[int, Any]:
    """Re-encrypt one batch of history entries with the current key."""
    return await history_repository.reseal(store, after, limit)

"""Customer use cases in domain words. Never imports FastAPI, never commits.

Every write locks the stored customer, compares, and writes only what changed, together with
a history entry holding the old and new value of each changed field: one transaction, so
the history can never disagree with the customer.
"""

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from customer_registry.customers import (
    bulk_repository,
    changes,
    history_repository,
    identifiers,
    outbox,
    phones,
    repository,
    sealing,
    search_repository,
)
from customer_registry.customers.access import Caller, TokenClaim, key_caller, key_params
from customer_registry.customers.errors import (
    CustomerChanged,
    CustomerNotFound,
    CustomerNumberTaken,
    IdentifierTaken,
    PersonNotFound,
)
from customer_registry.customers.model import (
    SEALED_FIELDS,
    UNCONDITIONAL,
    Audit,
    Condition,
    Customer,
    CustomerWrite,
    FieldChange,
    HistoryEntry,
    Locked,
    LookupKey,
    SearchQuery,
    SearchResult,
)
from customer_registry.db import Store

PersonDirectory = Callable[[LookupKey], Awaitable[Customer | None]]
# Generated identifiers are random: a clash with a stored one is retried with new ones.
_ATTEMPTS = 5
WriteOutcome = Literal["created", "updated", "unchanged"]


async def _create(store: Store, customer: Customer, audit: Audit) -> Customer | None:
    """Insert the customer with new ids; None when its number is taken meanwhile."""
    for _ in range(_ATTEMPTS):
        new, entry = changes.creation(sealing.keyed(store, customer), audit, datetime.now(UTC))
        created = await repository.insert_new(store, new, _recorded(store, new, entry))
        if created is not None:
            return created
        if await repository.lock(store, customer.client_id, customer.customer_number):
            return None
        if taken := await bulk_repository.identifiers_taken(store, customer):
            raise IdentifierTaken(taken)
    raise RuntimeError("no unused identifiers found; the id space is nearly exhausted")


async def _apply(
    store: Store, old: Customer, write: CustomerWrite, audit: Audit
) -> tuple[Customer, WriteOutcome]:
    planned = changes.planned(old, write, audit, datetime.now(UTC))
    if planned is None:
        return old, "unchanged"
    new, entry = planned
    fields = [change.field for change in entry.changes]
    updated = await repository.update(store, new, fields, _recorded(store, new, entry))
    return updated, "updated"


def _recorded(store: Store, new: Customer, entry: HistoryEntry) -> repository.Recorded:
    """The history row and the change event of ``entry``, the change that made ``new``."""
    return history_repository.row(store, entry, new.data_key), outbox.record(store, new, entry)


async def save(
    store: Store,
    write: CustomerWrite,
    audit: Audit,
    condition: Condition,
    *,
    may_create: bool,
    locked: Locked | None = None,
) -> tuple[Customer, WriteOutcome]:
    customer = write.customer
    key = (customer.client_id, customer.customer_number)
    for _ in range(_ATTEMPTS):
        old = locked.customer if locked else await repository.lock(store, *key)
        locked = None  # a second attempt reads again
        if old is None and (condition.needs_existing or not may_create):
            raise CustomerChanged(*key) if condition.needs_existing else CustomerNotFound(*key)
        if old is None:
            created = await _create(store, customer, audit)
            if created is not None:
                return created, "created"
            continue  # created concurrently: update it instead
        if condition.create_only or (
            condition.versions is not None and old.version not in condition.versions
        ):
            raise CustomerChanged(*key)
        return await _apply(store, old, write, audit)
    raise RuntimeError("the customer kept changing while it was written")


async def upsert(
    store: Store,
    write: CustomerWrite,
    audit: Audit,
    condition: Condition = UNCONDITIONAL,
    locked: Locked | None = None,
) -> Customer:
    """Create the customer, or replace the fields the write owns (``locked``: the stored
    customer, read and locked already in this transaction)."""
    saved = await save(store, write, audit, condition, may_create=True, locked=locked)
    return saved[0]


async def update(
    store: Store, write: CustomerWrite, audit: Audit, condition: Condition = UNCONDITIONAL
) -> Customer:
    """Replace the fields the write owns of an existing customer."""
    return (await save(store, write, audit, condition, may_create=False))[0]


async def read_as(
    store: Store, claim: TokenClaim, customer_number: str | None, shown: frozenset[str]
) -> Customer | None:
    """The customer (None: not stored, or no number to look up), once the claim's coverage,
    read in the same round trip, holds; of the sealed fields, only those ``shown``."""
    coverage, customer = await repository.get_covered(store, claim, customer_number, shown=shown)
    claim.require(coverage)
    return customer


async def lock_as(store: Store, claim: TokenClaim, customer_number: str) -> Locked:
    """``read_as`` for a write: the customer locked until the transaction ends."""
    coverage, customer = await repository.get_covered(store, claim, customer_number, lock=True)
    claim.require(coverage)
    return Locked(customer)


async def read_by_key(
    store: Store, key: str | None, customer_number: str | None
) -> tuple[Caller, Customer | None]:
    """The client a subscription key covers and its customer (None: not stored, or no number
    to look up), read in one round trip."""
    coverage, customer = await repository.get_keyed(store, key_params(key), customer_number)
    return key_caller(coverage), customer


def existing(customer: Customer | None, client_id: int, customer_number: str) -> Customer:
    """``customer``, unless there is none (CustomerNotFound)."""
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    return customer


async def count(store: Store, client_id: int) -> int:
    return await search_repository.count(store, client_id)


async def search(
    store: Store, client_id: int, query: SearchQuery, shown: frozenset[str]
) -> SearchResult:
    """A page of the client's customers; of the sealed fields, only those ``shown``."""
    items, total = await search_repository.search(store, client_id, query, shown)
    return SearchResult(items=items, total=total)


def masked(value: object) -> object:
    """Personal data as the history shows it: all but the last two characters hidden."""
    if value is None:
        return None
    text = str(value)
    return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 2) + text[-2:]


def masked_entry(entry: HistoryEntry) -> HistoryEntry:
    """``entry`` with the values of its personal-data fields masked."""
    changes = tuple(
        FieldChange(c.field, masked(c.old), masked(c.new)) if c.field in SEALED_FIELDS else c
        for c in entry.changes
    )
    return dataclasses.replace(entry, changes=changes)


async def history(store: Store, client_id: int, customer_number: str) -> list[HistoryEntry]:
    """The customer's changes, oldest first, with personal data masked."""
    entries = await history_repository.history(store, client_id, customer_number)
    if not entries:
        raise CustomerNotFound(client_id, customer_number)
    return [masked_entry(entry) for entry in entries]


async def _find_stored(store: Store, client_id: int, key: LookupKey) -> Customer | None:
    if key.field == "IdentificationNumber":
        return await repository.find_by_identification(store, client_id, key.value)
    e164 = phones.phone_e164(key.value) or key.value
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
    number = customer_number or identifiers.new_customer_number()
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

"""The rules of a write, shared by single writes and batches: what a write changes.

A write replaces the fields its dialect owns; an effective write gets the next version and
one history entry with the old and new value of each changed field. Pure functions: the
caller reads the stored customer and writes the result.
"""

import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime

from customer_registry.customers import rules
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    STORE_FIELDS,
    Audit,
    Customer,
    CustomerWrite,
    FieldChange,
    HistoryEntry,
)

DATA_FIELDS = tuple(name for name in CUSTOMER_FIELDS if name not in STORE_FIELDS)


def _fresh(customer: Customer, now: datetime) -> Customer:
    """The customer as created: identifiers it brings (an import's) are kept, others drawn."""
    return dataclasses.replace(
        customer,
        payment_id=customer.payment_id or rules.new_payment_id(),
        internal_number=customer.internal_number or rules.new_internal_number(),
        sign_up_id=customer.sign_up_id or rules.new_sign_up_id(),
        version=1,
        created_at=now,
        updated_at=now,
    )


def _changes(old: Customer | None, new: Customer, fields: Collection[str]) -> list[FieldChange]:
    if old is None:
        values = ((name, getattr(new, name)) for name in fields)
        return [FieldChange(name, None, value) for name, value in values if value is not None]
    changes = []
    for name in fields:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(FieldChange(name, before, after))
    return changes


def _entry(customer: Customer, changes: list[FieldChange], audit: Audit) -> HistoryEntry:
    return HistoryEntry(
        customer.client_id,
        customer.customer_number,
        customer.version,
        customer.updated_at or datetime.now(UTC),
        audit,
        tuple(changes),
    )


def creation(customer: Customer, audit: Audit, now: datetime) -> tuple[Customer, HistoryEntry]:
    new = _fresh(customer, now)
    return new, _entry(new, _changes(None, new, DATA_FIELDS), audit)


def planned(
    old: Customer, write: CustomerWrite, audit: Audit, now: datetime
) -> tuple[Customer, HistoryEntry] | None:
    """The customer after the write and its history entry; None when nothing changes."""
    changes = _changes(old, write.customer, sorted(write.owned))
    if not changes:
        return None
    new = dataclasses.replace(
        write.customer,
        **{name: getattr(old, name) for name in CUSTOMER_FIELDS if name not in write.owned},
    )
    new = dataclasses.replace(new, version=old.version + 1, updated_at=now)
    return new, _entry(new, changes, audit)

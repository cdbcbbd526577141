"""The rules of a write, shared by single writes and batches: what a write changes.

A write replaces the fields its dialect owns; an effective write gets the next version and
one history entry with the old and new value of each changed field. Pure functions: the
caller reads the stored customer and writes the result.
"""

import dataclasses
from collections.abc import Collection
from datetime import UTC, datetime
from operator import attrgetter

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
_DATA_VALUES = attrgetter(*DATA_FIELDS)


def _fresh(customer: Customer, now: datetime, ids: rules.Identifiers | None) -> Customer:
    """The customer as created: identifiers it brings (an import's) are kept, others drawn
    (``ids``: drawn already, for a batch)."""
    if ids is None:
        payment_id = customer.payment_id or rules.new_payment_id()
        internal_number = customer.internal_number or rules.new_internal_number()
        sign_up_id = customer.sign_up_id or rules.new_sign_up_id()
    else:
        payment_id = customer.payment_id or ids[0]
        internal_number = customer.internal_number or ids[1]
        sign_up_id = customer.sign_up_id or ids[2]
    return dataclasses.replace(
        customer,
        payment_id=payment_id,
        internal_number=internal_number,
        sign_up_id=sign_up_id,
        version=1,
        created_at=now,
        updated_at=now,
    )


def _created(new: Customer) -> list[FieldChange]:
    values = zip(DATA_FIELDS, _DATA_VALUES(new), strict=True)
    return [FieldChange(name, None, value) for name, value in values if value is not None]


def _changes(old: Customer, new: Customer, fields: Collection[str]) -> list[FieldChange]:
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


def creation(
    customer: Customer, audit: Audit, now: datetime, ids: rules.Identifiers | None = None
) -> tuple[Customer, HistoryEntry]:
    """The customer as created and its history entry (``ids``: new identifiers drawn for it
    already, by ``rules.new_identifiers``; used where the customer brings none)."""
    new = _fresh(customer, now, ids)
    return new, _entry(new, _created(new), audit)


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

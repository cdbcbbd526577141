"""The rules of a write, shared by single writes and batches: what a write changes.

A write replaces the fields its dialect owns; an effective write gets the next version and
one history entry with the old and new value of each changed field. Pure functions: the
caller reads the stored customer and writes the result.
"""

import dataclasses
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from customer_registry.customers import identifiers
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
_VALUES = attrgetter(*CUSTOMER_FIELDS)
_AT = {name: index for index, name in enumerate(CUSTOMER_FIELDS)}
_DATA_AT = tuple((name, _AT[name]) for name in DATA_FIELDS)


def created_values(
    customer: Customer, now: datetime, ids: identifiers.Identifiers | None
) -> list[Any]:
    """The values of the customer as created, in ``CUSTOMER_FIELDS`` order: identifiers it
    brings (an import's) are kept, others drawn (``ids``: drawn already, for a batch)."""
    values = list(_VALUES(customer))
    if ids is None:
        ids = (
            customer.payment_id or identifiers.new_payment_id(),
            customer.internal_number or identifiers.new_internal_number(),
            customer.sign_up_id or identifiers.new_sign_up_id(),
        )
    values[_AT["payment_id"]] = customer.payment_id or ids[0]
    values[_AT["internal_number"]] = customer.internal_number or ids[1]
    values[_AT["sign_up_id"]] = customer.sign_up_id or ids[2]
    values[_AT["version"]] = 1
    values[_AT["created_at"]] = values[_AT["updated_at"]] = now
    return values


def created_changes(values: list[Any]) -> Iterator[tuple[str, Any]]:
    """The history changes of a create (``created_values``): each data field that has a
    value, with that value; the old value is None."""
    return ((name, values[at]) for name, at in _DATA_AT if values[at] is not None)


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
    customer: Customer, audit: Audit, now: datetime, ids: identifiers.Identifiers | None = None
) -> tuple[Customer, HistoryEntry]:
    """The customer as created and its history entry (``ids``: see ``created_values``)."""
    values = created_values(customer, now, ids)
    new = Customer(**dict(zip(CUSTOMER_FIELDS, values, strict=True)))
    changes = [FieldChange(name, None, value) for name, value in created_changes(values)]
    return new, _entry(new, changes, audit)


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

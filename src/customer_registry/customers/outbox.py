"""The outbox: one change event per committed change of a customer.

``repository`` and ``bulk_repository`` write the event beside the history row, in the same
transaction (on PostgreSQL in the same statement): no event without its change, no change
without its event. A write that changes nothing writes neither. The events package serves
them (feed, webhooks); this module only builds and appends them.

An event holds what its change was (type, version, time, source, request id, the names of
the changed fields and the old values of those that are not personal identifiers) and a
snapshot of the customer after it: the fields the Horizon representation shows. Of these,
only the organisation number is sealed, and it is kept sealed, in a column of its own.
"""

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from customer_registry.customers.model import (
    IDENTITY_FIELDS,
    SEALED_FIELDS,
    Audit,
    Customer,
    HistoryEntry,
)
from customer_registry.db import Sql, Store, Tx, customer_events, event_positions

CREATED, UPDATED, ERASED = "customer.created", "customer.updated", "customer.erased"
EVENT_TYPES = (CREATED, UPDATED, ERASED)
# Changes without an HTTP request: their history request id names a file line, not a request.
_WITHOUT_REQUEST = frozenset({"import"})
# The customer after the change, as the Horizon representation shows it (events.schemas
# renders it; a test compares that with the representation itself).
SNAPSHOT_FIELDS = (
    "type",
    "first_name",
    "last_name",
    "company_name",
    "phone_number",
    "email",
    "street",
    "street_number",
    "street_number_additional",
    "care_of",
    "address_line3",
    "postal_code",
    "postal_place",
    "country_code",
    "payment_id",
)
Change = tuple[str, object, object]  # field, old value, new value
Record = dict[str, Any]  # an event's column values (without seq and position)
COLUMNS = tuple(c.name for c in customer_events.columns if c.name not in ("seq", "position"))


def camel(name: str) -> str:
    """A canonical field's name as the registry's own API writes it: ``first_name`` →
    ``firstName``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def organization_context(client_id: int, event_id: str) -> str:
    # Part of the stored data: never change it.
    return f"events/{client_id}/{event_id}/organization_number"


def new_event_id() -> str:
    return f"evt_{secrets.token_urlsafe(16)}"


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _previous(version: int, changes: Sequence[Change]) -> str | None:
    if version == 1:
        return None
    return _json({camel(name): old for name, old, _ in changes if name not in SEALED_FIELDS})


def record_of(
    store: Store,
    after: Callable[[str], Any],
    *,
    client_id: int,
    customer_number: str,
    version: int,
    changed_at: datetime,
    audit: Audit,
    changes: Sequence[Change],
) -> Record:
    """The event of a change: ``after`` gives the customer's values after it, by field."""
    event_id = new_event_id()
    organization = after("organization_number")
    snapshot = {name: value for name in SNAPSHOT_FIELDS if (value := after(name)) is not None}
    return {
        "client_id": client_id,
        "event_id": event_id,
        "type": CREATED if version == 1 else UPDATED,
        "customer_number": customer_number,
        "version": version,
        "occurred_at": changed_at,
        "source": audit.dialect,
        "request_id": None if audit.dialect in _WITHOUT_REQUEST else audit.request_id,
        "changed_fields": _json(
            [camel(name) for name, _, _ in changes if name not in IDENTITY_FIELDS]
        ),
        "previous": _previous(version, changes),
        "customer": _json(snapshot),
        "organization_number": None
        if organization is None
        else store.vault.encrypt(organization, organization_context(client_id, event_id)),
    }


def record(store: Store, customer: Customer, entry: HistoryEntry) -> Record:
    """The event of ``entry``, the change that made ``customer``."""
    return record_of(
        store,
        lambda name: getattr(customer, name),
        client_id=entry.client_id,
        customer_number=entry.customer_number,
        version=entry.version,
        changed_at=entry.changed_at,
        audit=entry.audit,
        changes=[(change.field, change.old, change.new) for change in entry.changes],
    )


def erasure(
    *, client_id: int, customer_number: str, version: int, at: datetime, audit: Audit,
    fields: Iterable[str],
) -> Record:  # fmt: skip
    """The ``customer.erased`` event of an erasure (issue 16) that cleared ``fields``: no
    customer, no previous values. The erasure must also ``scrub`` the customer's earlier
    events in its transaction (events.repository.scrub)."""
    return {
        "client_id": client_id,
        "event_id": new_event_id(),
        "type": ERASED,
        "customer_number": customer_number,
        "version": version,
        "occurred_at": at,
        "source": audit.dialect,
        "request_id": audit.request_id,
        "changed_fields": _json([camel(name) for name in fields]),
        "previous": None,
        "customer": None,
        "organization_number": None,
    }


# SQLite has one writer at a time: insertion order is commit order, and the writer takes the
# client's next positions at once. ``n`` positions: the last one is returned.
_ADVANCE = Sql(
    sqlite.insert(event_positions)
    .values(client_id=sa.bindparam("client_id"), position=sa.bindparam("n"), purged_through=0)
    .on_conflict_do_update(
        index_elements=["client_id"],
        set_={"position": event_positions.c.position + sa.bindparam("n")},
    )
    .returning(event_positions.c.position)
)
_INSERT = Sql(sa.insert(customer_events))


async def append_in_order(conn: Tx, records: Sequence[Record]) -> None:
    """Insert the events of one client with their positions (SQLite's writers)."""
    if not records:
        return
    last = await conn.fetchval(_ADVANCE, {"client_id": records[0]["client_id"], "n": len(records)})
    first = last - len(records) + 1
    rows = [
        {**found, "seq": position, "position": position}
        for position, found in enumerate(records, start=first)
    ]
    await conn.executemany(_INSERT, rows)


async def append_many(store: Store, records: Sequence[Record]) -> None:
    """Insert the events of one client's batch (PostgreSQL: COPY, positions come later)."""
    if store.conn.dialect == "postgresql":
        rows = [tuple(found[name] for name in COLUMNS) for found in records]
        await store.conn.copy(customer_events.name, COLUMNS, rows)
    else:
        await append_in_order(store.conn, records)


_SCRUB = Sql(
    sa.update(customer_events)
    .where(
        customer_events.c.client_id == sa.bindparam("client_id"),
        customer_events.c.customer_number == sa.bindparam("customer_number"),
    )
    .values(customer=None, previous=None, organization_number=None)
)


async def scrub(conn: Tx, client_id: int, customer_number: str) -> None:
    """Remove the customer's data from its kept events, for its erasure (issue 16), in the
    erasure's transaction: the events stay, without ``customer`` and ``previous``, so that a
    consumer still sees each version in order. It reads the client's events (there is no
    index by customer): an erasure is rare, and events are kept for weeks only."""
    await conn.execute(_SCRUB, {"client_id": client_id, "customer_number": customer_number})

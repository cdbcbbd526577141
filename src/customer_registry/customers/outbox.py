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


# SQLite has one writer at a time: insertion order is commit order, and the writer gives its
# events the client's next positions (``seq`` is the position there) as it inserts them,
# after the newest event or, if the purge took them all, the last purged position.
_e, _p = customer_events.c, event_positions.c
_CLIENT: sa.BindParameter[int] = sa.bindparam("client_id")
_NEWEST = sa.select(sa.func.max(_e.seq)).where(_e.client_id == _CLIENT).scalar_subquery()
_PURGED = sa.select(_p.purged_through).where(_p.client_id == _CLIENT).scalar_subquery()
_NEXT = sa.func.max(sa.func.coalesce(_NEWEST, 0), sa.func.coalesce(_PURGED, 0)) + 1
_NEXT_POSITION = Sql(sa.select(_NEXT))
_INSERT = Sql(sa.insert(customer_events))
_numbered = sa.select(_NEXT.label("n")).subquery("numbered")
_INSERT_NEXT = Sql(
    sa.insert(customer_events).from_select(
        [*COLUMNS, "seq", "position"],
        sa.select(*(sa.bindparam(name) for name in COLUMNS), _numbered.c.n, _numbered.c.n),
    )
)


async def append_in_order(conn: Tx, records: Sequence[Record]) -> None:
    """Insert the events of one client with their positions (SQLite's writers): one
    statement for a single write's event."""
    if len(records) == 1:
        await conn.execute(_INSERT_NEXT, records[0])
        return
    if not records:
        return
    first = await conn.fetchval(_NEXT_POSITION, {"client_id": records[0]["client_id"]})
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

"""Every SQL statement on the customer history. Personal data in it is stored encrypted."""

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from customer_registry.customers import sealing
from customer_registry.customers.model import SEALED_FIELDS, Audit, FieldChange, HistoryEntry
from customer_registry.customers.repository import HISTORY_INSERT
from customer_registry.db import Sql, Store, customer_history, customers

_h = customer_history.c


# json.dumps(..., default=str) of a change list, written out for the values changes hold:
# the same text, at a third of the cost of building and encoding a dictionary per change.
_string = json.encoder.encode_basestring_ascii
_LITERALS: dict[object, str] = {None: "null", True: "true", False: "false"}
_NAMES = tuple(customer_history.c.keys())


def _json(value: object) -> str:
    if type(value) is str:
        return _string(value)
    if value is None or type(value) is bool:
        return _LITERALS[value]
    return json.dumps(value, default=str)


@cache
def _opening(field: str) -> str:
    return f'{{"field": {_string(field)}, "old": '


Change = tuple[str, object, object]  # field, old value, new value
Record = tuple[Any, ...]  # a history row's values, in the table's column order
_CHANGE = attrgetter("field", "old", "new")


def record_of(
    store: Store,
    *,
    client_id: int,
    customer_number: str,
    version: int,
    changed_at: datetime,
    audit: Audit,
    changes: Iterable[Change],
    data_key: str | None,
) -> Record:
    """A history row's values, its personal data sealed under the customer's ``data_key``."""

    def seal(field: str, value: object) -> str | None:
        where = sealing.history_context(client_id, customer_number, field)
        return sealing.seal_text(store, client_id, customer_number, data_key, str(value), where)

    texts = []
    for field, old, new in changes:
        if field in SEALED_FIELDS:
            old = None if old is None else seal(field, old)
            new = None if new is None else seal(field, new)
        # Most values are text, and a created field's old value is None: no call for those.
        old_text = "null" if old is None else _json(old)
        new_text = _string(new) if type(new) is str else _json(new)
        texts.append(f'{_opening(field)}{old_text}, "new": {new_text}}}')
    return (
        client_id,
        customer_number,
        version,
        changed_at,
        audit.credential_id,
        audit.request_id,
        audit.dialect,
        f"[{', '.join(texts)}]",
    )


def record(store: Store, entry: HistoryEntry, data_key: str | None) -> Record:
    """The entry's row values, its personal data sealed."""
    return record_of(
        store,
        client_id=entry.client_id,
        customer_number=entry.customer_number,
        version=entry.version,
        changed_at=entry.changed_at,
        audit=entry.audit,
        changes=map(_CHANGE, entry.changes),
        data_key=data_key,
    )


def row(store: Store, entry: HistoryEntry, data_key: str | None) -> dict[str, Any]:
    """The entry's column values, its personal data sealed."""
    return dict(zip(_NAMES, record(store, entry, data_key), strict=True))


async def add_many(store: Store, records: list[Record]) -> None:
    """Insert history rows (``record``, ``record_of``)."""
    if not records:
        return
    if store.conn.dialect == "postgresql":
        await store.conn.copy(customer_history.name, _NAMES, records)
    else:
        rows = [dict(zip(_NAMES, values, strict=True)) for values in records]
        await store.conn.executemany(HISTORY_INSERT, rows)


def _history_entry(store: Store, row: Any) -> HistoryEntry:
    def unseal(field: str, value: object) -> object:
        if value is None or field not in SEALED_FIELDS:
            return value
        client_id, number = row["client_id"], row["customer_number"]
        where = sealing.history_context(client_id, number, field)
        return sealing.open_text(store, client_id, number, row["data_key"], str(value), where)

    changes = tuple(
        FieldChange(c["field"], unseal(c["field"], c["old"]), unseal(c["field"], c["new"]))
        for c in json.loads(row["changes"])
    )
    audit = Audit(row["dialect"], row["credential_id"], row["request_id"])
    return HistoryEntry(
        row["client_id"], row["customer_number"], row["version"], row["changed_at"], audit, changes
    )


# The customer's data key, beside each of its entries: it opens their sealed values.
_DATA_KEY = (
    select(customers.c.data_key)
    .where(customers.c.client_id == _h.client_id, customers.c.customer_number == _h.customer_number)
    .scalar_subquery()
    .label("data_key")
)


async def history(store: Store, client_id: int, customer_number: str) -> list[HistoryEntry]:
    stmt = (
        select(customer_history, _DATA_KEY)
        .where(_h.client_id == client_id, _h.customer_number == customer_number)
        .order_by(_h.version)
    )
    return [_history_entry(store, row) for row in await store.conn.fetch(stmt)]


async def reseal(
    store: Store, after: tuple[int, str, int] | None, limit: int
) -> tuple[int, tuple[Any, ...] | None]:
    """Re-encrypt with the current key the personal data of the next ``limit`` entries."""
    key = ("client_id", "customer_number", "version")
    return await sealing.reseal_batch(
        store, customer_history, key, after, limit, sealing.resealed_history
    )


_NEWEST = Sql(
    select(customer_history, _DATA_KEY)
    .where(
        _h.client_id == sa.bindparam("client_id"),
        _h.customer_number == sa.bindparam("customer_number"),
        _h.version <= sa.bindparam("through"),
    )
    .order_by(_h.version.desc())
    .limit(sa.bindparam("limit"))
)


async def newest(
    store: Store, client_id: int, customer_number: str, *, through: int, limit: int
) -> list[HistoryEntry]:
    """Up to ``limit`` entries from version ``through`` down, newest first."""
    params = {
        "client_id": client_id,
        "customer_number": customer_number,
        "through": through,
        "limit": limit,
    }
    return [_history_entry(store, row) for row in await store.conn.fetch(_NEWEST, params)]

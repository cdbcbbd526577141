"""Every SQL statement on the customer history. Personal data in it is stored encrypted."""

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, select

from customer_registry.customers import copy_writes
from customer_registry.customers.model import SEALED_FIELDS, Audit, FieldChange, HistoryEntry
from customer_registry.customers.repository import HISTORY_INSERT, context
from customer_registry.db import Store, customer_history

_h = customer_history.c


def _context(client_id: int, customer_number: str, field: str) -> str:
    return context(client_id, customer_number, f"history/{field}")


def _sealed_change(store: Store, entry: HistoryEntry, change: FieldChange) -> dict[str, Any]:
    def seal(value: object) -> object:
        if value is None or change.field not in SEALED_FIELDS:
            return value
        where = _context(entry.client_id, entry.customer_number, change.field)
        return store.vault.encrypt(str(value), where)

    return {"field": change.field, "old": seal(change.old), "new": seal(change.new)}


def row(store: Store, entry: HistoryEntry) -> dict[str, Any]:
    """The entry's column values, its personal data sealed."""
    changes = [_sealed_change(store, entry, change) for change in entry.changes]
    return {
        "client_id": entry.client_id,
        "customer_number": entry.customer_number,
        "version": entry.version,
        "changed_at": entry.changed_at,
        "credential_id": entry.audit.credential_id,
        "request_id": entry.audit.request_id,
        "dialect": entry.audit.dialect,
        "changes": json.dumps(changes, default=str),
    }


async def add_many(store: Store, entries: list[HistoryEntry]) -> None:
    rows = [row(store, entry) for entry in entries]
    if not rows:
        return
    if store.conn.dialect == "postgresql":
        await copy_writes.copy_rows(store.conn, customer_history, rows)
    else:
        await store.conn.executemany(HISTORY_INSERT, rows)


def _history_entry(store: Store, row: Any) -> HistoryEntry:
    def unseal(field: str, value: object) -> object:
        if value is None or field not in SEALED_FIELDS:
            return value
        where = _context(row["client_id"], row["customer_number"], field)
        return store.vault.decrypt(str(value), where)

    changes = tuple(
        FieldChange(c["field"], unseal(c["field"], c["old"]), unseal(c["field"], c["new"]))
        for c in json.loads(row["changes"])
    )
    audit = Audit(row["dialect"], row["credential_id"], row["request_id"])
    return HistoryEntry(
        row["client_id"], row["customer_number"], row["version"], row["changed_at"], audit, changes
    )


async def history(store: Store, client_id: int, customer_number: str) -> list[HistoryEntry]:
    stmt = (
        select(customer_history)
        .where(_h.client_id == client_id, _h.customer_number == customer_number)
        .order_by(_h.version)
    )
    return [_history_entry(store, row) for row in await store.conn.fetch(stmt)]


async def reseal(
    store: Store, after: tuple[int, str, int] | None, limit: int
) -> tuple[int, tuple[int, str, int] | None]:
    """Re-encrypt with the current key the personal data of the next ``limit`` entries."""
    key = (_h.client_id, _h.customer_number, _h.version)
    stmt = select(*key, _h.changes)
    if after is not None:
        stmt = stmt.where(sa.tuple_(*key) > after)
    rows = await store.conn.fetch(stmt.order_by(*key).limit(limit))
    changed = 0
    for row in rows:
        changes = json.loads(row["changes"])
        resealed = False
        for change in changes:
            if change["field"] not in SEALED_FIELDS:
                continue
            aad = _context(row["client_id"], row["customer_number"], change["field"])
            for side in ("old", "new"):
                if change[side] is not None and (new := store.vault.reseal(change[side], aad)):
                    change[side], resealed = new, True
        if resealed:
            where = and_(
                *(
                    column == value
                    for column, value in zip(key, (row[0], row[1], row[2]), strict=True)
                )
            )
            await store.conn.execute(
                sa.update(customer_history).where(where).values(changes=json.dumps(changes))
            )
            changed += 1
    last = (
        (rows[-1]["client_id"], rows[-1]["customer_number"], rows[-1]["version"])
        if len(rows) == limit
        else None
    )
    return changed, last

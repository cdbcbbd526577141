"""Personal data of customers and their history, sealed at rest by the vault.

A sealed value is bound to its client, customer and field (the associated data), so a
ciphertext copied into another row or field does not decrypt. ``keys rotate`` re-encrypts
every sealed value under the current key in batches (``reseal_batch``).
"""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from customer_registry.customers import rules
from customer_registry.customers.model import CUSTOMER_FIELDS, SEALED_FIELDS, Customer
from customer_registry.db import Store

INDEXED_FIELDS = {"ssn": "ssn_index", "organization_number": "organization_number_index"}


def context(client_id: int, customer_number: str, field: str) -> str:
    return f"{client_id}/{customer_number}/{field}"


def history_context(client_id: int, customer_number: str, field: str) -> str:
    return context(client_id, customer_number, f"history/{field}")


def seal(store: Store, customer: Customer, field: str, value: Any) -> str | None:
    if value is None:
        return None
    plain = value.isoformat() if isinstance(value, date) else str(value)
    return store.vault.encrypt(plain, context(customer.client_id, customer.customer_number, field))


def unseal(store: Store, client_id: int, number: str, field: str, token: str | None) -> Any:
    if token is None:
        return None
    plain = store.vault.decrypt(token, context(client_id, number, field))
    return date.fromisoformat(plain) if field == "birth_date" else plain


def sealed_row(store: Store, customer: Customer, fields: Collection[str]) -> dict[str, Any]:
    """Column values for ``fields`` of ``customer``, sealed, with their derived columns."""
    row = {name: getattr(customer, name) for name in fields}
    for name in SEALED_FIELDS & set(fields):
        row[name] = seal(store, customer, name, row[name])
    for name, index in INDEXED_FIELDS.items():
        if name in fields:
            value = getattr(customer, name)
            row[index] = (
                None if value is None else store.vault.blind_index(value, customer.client_id)
            )
    return {**row, **rules.derived_columns(customer, frozenset(fields))}


def unsealed_customer(store: Store, row: Any, shown: frozenset[str] = SEALED_FIELDS) -> Customer:
    """The customer of ``row``; sealed fields not ``shown`` are left None, undecrypted (for a
    representation that does not show them: decryption is most of a read's own CPU)."""
    values = {name: row[name] for name in CUSTOMER_FIELDS}
    client_id, number = values["client_id"], values["customer_number"]
    for name in SEALED_FIELDS:
        token = values[name] if name in shown else None
        values[name] = unseal(store, client_id, number, name, token)
    return Customer(**values)


def resealed_customer(store: Store, row: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed columns of a customer row that the current key would seal otherwise."""
    client_id, number = row["client_id"], row["customer_number"]
    values = {
        name: store.vault.reseal(token, context(client_id, number, name))
        for name in SEALED_FIELDS
        if (token := row[name]) is not None
    }
    return {name: value for name, value in values.items() if value is not None}


def resealed_history(store: Store, row: Mapping[str, Any]) -> dict[str, Any]:
    """A history row's ``changes`` with its sealed values under the current key, if any
    was not."""
    changes = json.loads(row["changes"])
    resealed = False
    for change in changes:
        if change["field"] not in SEALED_FIELDS:
            continue
        aad = history_context(row["client_id"], row["customer_number"], change["field"])
        for side in ("old", "new"):
            if change[side] is not None and (new := store.vault.reseal(change[side], aad)):
                change[side], resealed = new, True
    return {"changes": json.dumps(changes)} if resealed else {}


Resealed = Callable[[Store, Mapping[str, Any]], dict[str, Any]]


async def reseal_batch(
    store: Store,
    table: sa.Table,
    key: Sequence[str],
    after: tuple[Any, ...] | None,
    limit: int,
    resealed: Resealed,
) -> tuple[int, tuple[Any, ...] | None]:
    """Re-encrypt under the current key the next ``limit`` rows of ``table`` after ``after``
    (in ``key`` order). Returns how many rows changed and where the next batch starts
    (None: done)."""
    columns = [table.c[name] for name in key]
    stmt = sa.select(table).order_by(*columns).limit(limit)
    if after is not None:
        stmt = stmt.where(sa.tuple_(*columns) > after)
    rows = await store.conn.fetch(stmt)
    changed = 0
    for row in rows:
        if values := resealed(store, row):
            where = sa.and_(*(column == row[column.name] for column in columns))
            await store.conn.execute(sa.update(table).where(where).values(values))
            changed += 1
    last = tuple(rows[-1][name] for name in key) if len(rows) == limit else None
    return changed, last

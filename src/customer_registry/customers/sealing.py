"""Personal data of customers and their history, sealed at rest.

Each customer has a data key of its own (``Customer.data_key``, wrapped by the key file's
current key); its sealed values and those of its history are encrypted under it, so that
erasing the customer destroys the key with the values (crypto-shredding). Values sealed
before data keys existed (migration 0009) are under the key file's key directly, and stay
readable: ``keys rotate`` re-wraps data keys and moves such values under their customer's
key, in batches (``reseal_batch``). A sealed value is bound to its client, customer and field
(the associated data), so a ciphertext copied into another row or field does not decrypt.
"""

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from customer_registry.customers import rules
from customer_registry.customers.model import CUSTOMER_FIELDS, SEALED_FIELDS, Customer
from customer_registry.db import Store
from customer_registry.errors import ConfigurationError
from customer_registry.vault import DATA_SEALED, DataKey

INDEXED_FIELDS = {"ssn": "ssn_index", "organization_number": "organization_number_index"}


def context(client_id: int, customer_number: str, field: str) -> str:
    return f"{client_id}/{customer_number}/{field}"


def history_context(client_id: int, customer_number: str, field: str) -> str:
    return context(client_id, customer_number, f"history/{field}")


def key_context(client_id: int, customer_number: str) -> str:
    return context(client_id, customer_number, "data_key")


def keyed(store: Store, customer: Customer) -> Customer:
    """``customer`` with a data key: its own, or a new one."""
    if customer.data_key is not None:
        return customer
    wrapped = store.vault.new_data_key(key_context(customer.client_id, customer.customer_number))
    return dataclasses.replace(customer, data_key=wrapped)


def data_key(store: Store, client_id: int, customer_number: str, wrapped: str) -> DataKey:
    return store.vault.data_key(wrapped, key_context(client_id, customer_number))


def seal_text(
    store: Store, client_id: int, number: str, wrapped: str | None, plain: str, where: str
) -> str:
    """``plain`` sealed under the customer's data key (``wrapped``; None: the key file's)."""
    if wrapped is None:
        return store.vault.encrypt(plain, where)
    return data_key(store, client_id, number, wrapped).seal(plain, where)


def open_text(
    store: Store, client_id: int, number: str, wrapped: str | None, token: str, where: str
) -> str:
    if not token.startswith(DATA_SEALED):
        return store.vault.decrypt(token, where)
    if wrapped is None:
        raise ConfigurationError(f"customer {client_id}/{number} has lost its data key")
    return data_key(store, client_id, number, wrapped).open(token, where)


def seal(store: Store, customer: Customer, field: str, value: Any) -> str | None:
    if value is None:
        return None
    plain = value.isoformat() if isinstance(value, date) else str(value)
    client_id, number = customer.client_id, customer.customer_number
    where = context(client_id, number, field)
    return seal_text(store, client_id, number, customer.data_key, plain, where)


def unseal(
    store: Store, client_id: int, number: str, field: str, token: str | None, wrapped: str | None
) -> Any:
    if token is None:
        return None
    plain = open_text(store, client_id, number, wrapped, token, context(client_id, number, field))
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
        values[name] = unseal(store, client_id, number, name, token, values["data_key"])
    return Customer(**values)


def resealed_customer(store: Store, row: Mapping[str, Any]) -> dict[str, Any]:
    """What ``keys rotate`` changes in a customer row: its data key re-wrapped under the
    current key, and values sealed under the key file's key moved under the data key."""
    client_id, number = row["client_id"], row["customer_number"]
    where = key_context(client_id, number)
    wrapped = row["data_key"] or store.vault.new_data_key(where)
    values = {name: row[name] for name in SEALED_FIELDS if _legacy(row[name])}
    for name, token in values.items():
        plain = store.vault.decrypt(token, context(client_id, number, name))
        values[name] = seal_text(
            store, client_id, number, wrapped, plain, context(client_id, number, name)
        )
    rewrapped = store.vault.reseal(wrapped, where) if row["data_key"] else wrapped
    return values | ({"data_key": rewrapped} if rewrapped else {})


def _legacy(token: str | None) -> bool:
    """Sealed under the key file's key, not under a data key."""
    return token is not None and not token.startswith(DATA_SEALED)


def resealed_history(store: Store, row: Mapping[str, Any]) -> dict[str, Any]:
    """A history row's ``changes`` with the values sealed under the key file's key (before
    data keys) under its current key, if any was not."""
    changes = json.loads(row["changes"])
    resealed = False
    for change in changes:
        if change["field"] not in SEALED_FIELDS:
            continue
        aad = history_context(row["client_id"], row["customer_number"], change["field"])
        for side in ("old", "new"):
            if _legacy(change[side]) and (new := store.vault.reseal(change[side], aad)):
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
            # Not a row written since it was read (its version moved on): that write's
            # values would be lost; they are under the current key already.
            same = [table.c.version == row["version"]] if "version" in table.c else []
            where = sa.and_(*(column == row[column.name] for column in columns), *same)
            await store.conn.execute(sa.update(table).where(where).values(values))
            changed += 1
    last = tuple(rows[-1][name] for name in key) if len(rows) == limit else None
    return changed, last

"""Every SQL statement on customers, built with SQLAlchemy Core and run on the driver.

Dialect differences live here only.

Rows and customers differ in two ways: personal data is stored encrypted (with a blind index
for the searchable identifiers), and search columns derived from names and phone numbers are
stored beside the values they come from.
"""

from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.customers import outbox, sealing
from customer_registry.customers.access import TokenClaim
from customer_registry.customers.access_repository import (
    COVERAGE_COLUMNS,
    COVERED_CLIENT,
    CREDENTIAL,
    KEY_CLIENTS,
    KEY_COLUMNS,
    WHERE_CREDENTIAL,
    WHERE_SUBSCRIPTION_KEY,
)
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    IDENTITY_FIELDS,
    SEALED_FIELDS,
    STORE_FIELDS,
    Customer,
)
from customer_registry.db import Sql, Store, customer_events, customer_history, customers

_c = customers.c
COLUMNS = tuple(_c[name] for name in CUSTOMER_FIELDS)
NAME_KEYS = (_c.first_name_key, _c.last_name_key, _c.full_name_key, _c.company_name_key)
# What a change writes beside the customer: its history row and its event (outbox).
Recorded = tuple[dict[str, Any], outbox.Record]


def _where_number(client_id: int, customer_number: str) -> ColumnElement[bool]:
    return and_(_c.client_id == client_id, _c.customer_number == customer_number)


# The hot statements are built once: building one costs more CPU than running it.
_BY_NUMBER = select(*COLUMNS).where(
    _c.client_id == sa.bindparam("client_id"),
    _c.customer_number == sa.bindparam("customer_number"),
)
_LOCK_BY_NUMBER = Sql(_BY_NUMBER.with_for_update())
_OF_COVERED_CLIENT = and_(
    _c.client_id == COVERED_CLIENT, _c.customer_number == sa.bindparam("customer_number")
)
_COVERED_BY_NUMBER = Sql(
    select(*COVERAGE_COLUMNS, *COLUMNS)
    .select_from(CREDENTIAL.outerjoin(customers, _OF_COVERED_CLIENT))
    .where(WHERE_CREDENTIAL)
)
# The customer locked until the transaction ends, read with the coverage (PostgreSQL cannot
# lock the nullable side of an outer join, but can lock inside a lateral subquery).
_LOCKED = select(*COLUMNS).where(_OF_COVERED_CLIENT).with_for_update().lateral("locked")
_LOCK_COVERED = Sql(
    select(*COVERAGE_COLUMNS, *_LOCKED.c)
    .select_from(CREDENTIAL.outerjoin(_LOCKED, true()))
    .where(WHERE_CREDENTIAL),
    # SQLite has neither; the writer's transaction holds the whole database.
    _COVERED_BY_NUMBER.statement("sqlite"),
)
_KEYED_BY_NUMBER = Sql(
    select(*KEY_COLUMNS, *COLUMNS)
    .select_from(KEY_CLIENTS.outerjoin(customers, _OF_COVERED_CLIENT))
    .where(WHERE_SUBSCRIPTION_KEY)
)
_INSERT_PG = postgresql.insert(customers).on_conflict_do_nothing().returning(*COLUMNS)
_INSERT_NEW = Sql(_INSERT_PG, sqlite.insert(customers).on_conflict_do_nothing().returning(*COLUMNS))
HISTORY_INSERT = Sql(sa.insert(customer_history))
_LOG_VALUES = {
    name: sa.bindparam(f"log_{name}", type_=column.type)
    for name, column in customer_history.c.items()
}
_EVENT_VALUES = {
    name: sa.bindparam(f"event_{name}", type_=customer_events.c[name].type)
    for name in outbox.COLUMNS
}


def _written_with(changed: Any, table: sa.Table, values: dict[str, Any], name: str) -> Any:
    """A CTE inserting one row of ``values`` into ``table`` if ``changed`` wrote a row."""
    rows = select(*values.values()).where(sa.exists(select(changed.c.client_id)))
    return sa.insert(table).from_select(list(values), rows).cte(name)


def _logging(change: Any) -> Sql:
    """``change`` (an INSERT or UPDATE returning the customer) with its history row and its
    event written by the same statement, if it wrote a row: one round trip instead of three
    (PostgreSQL)."""
    changed = change.cte("changed")
    log = _written_with(changed, customer_history, _LOG_VALUES, "logged")
    event = _written_with(changed, customer_events, _EVENT_VALUES, "evented")
    return Sql(select(changed).add_cte(log).add_cte(event))


_INSERT_LOGGED = _logging(_INSERT_PG)


async def _one(store: Store, stmt: Any, params: dict[str, Any] | None = None) -> Customer | None:
    row = await store.conn.fetchrow(stmt, params)
    return None if row is None else sealing.unsealed_customer(store, row)


async def lock(store: Store, client_id: int, customer_number: str) -> Customer | None:
    """Read the customer and hold its row until the transaction ends (SQLite: the database)."""
    params = {"client_id": client_id, "customer_number": customer_number}
    return await _one(store, _LOCK_BY_NUMBER, params)


async def get_covered(
    store: Store,
    claim: TokenClaim,
    customer_number: str | None,
    *,
    lock: bool = False,
    shown: frozenset[str] = SEALED_FIELDS,
) -> tuple[Any, Customer | None]:
    """What the claim's credential covers and, only if it covers the client, the customer
    (None as the number: the coverage alone), ``lock``-ed until the transaction ends."""
    params = {**claim.params(), "customer_number": customer_number}
    row = await store.conn.fetchrow(_LOCK_COVERED if lock else _COVERED_BY_NUMBER, params)
    if row is None or row["customer_number"] is None:
        return row, None
    return row, sealing.unsealed_customer(store, row, shown)


async def get_keyed(
    store: Store, key: dict[str, Any], customer_number: str | None
) -> tuple[Sequence[Any], Customer | None]:
    """The clients a subscription key covers (``key``: its parameters, rows of KEY_COLUMNS)
    and, only if it covers exactly one, that client's customer (None as the number: the
    clients alone)."""
    params = {**key, "customer_number": customer_number}
    rows = await store.conn.fetch(_KEYED_BY_NUMBER, params)
    if len(rows) != 1 or rows[0]["customer_number"] is None:
        return rows, None
    return rows, sealing.unsealed_customer(store, rows[0])


async def _logged(
    store: Store, plain: Sql, logged: Sql, params: dict[str, Any], recorded: Recorded
) -> Customer | None:
    """Run ``plain``; if it wrote the customer, add its history row and its event."""
    history, event = recorded
    if store.conn.dialect == "postgresql":
        log = {f"log_{name}": value for name, value in history.items()}
        log.update({f"event_{name}": value for name, value in event.items()})
        written = await _one(store, logged, params | log)
    else:
        written = await _one(store, plain, params)
        if written is not None:
            await store.conn.execute(HISTORY_INSERT, history)
            await outbox.append_in_order(store.conn, [event])
    if written is not None and store.appended is not None:
        store.appended(event["source"])
    return written


async def insert_new(store: Store, customer: Customer, recorded: Recorded) -> Customer | None:
    """Insert the customer, its history row and its event; None when its number or a
    generated id is taken already (then nothing is written)."""
    values = sealing.sealed_row(store, customer, CUSTOMER_FIELDS)
    return await _logged(store, _INSERT_NEW, _INSERT_LOGGED, values, recorded)


# An UPDATE's row, by bind parameters named apart from the columns it sets.
WHERE_KEY = and_(
    _c.client_id == sa.bindparam("key_client_id"),
    _c.customer_number == sa.bindparam("key_number"),
)


def key_params(customer: Customer) -> dict[str, Any]:
    return {"key_client_id": customer.client_id, "key_number": customer.customer_number}


def _update(columns: frozenset[str]) -> Any:
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in sorted(columns)}
    return sa.update(customers).where(WHERE_KEY).values(values)


@lru_cache(maxsize=512)
def update_of(columns: frozenset[str], *, returning: bool = True) -> Sql:
    """The UPDATE of ``columns`` (parameters: ``update_params``), built once per set of
    columns a write changes."""
    stmt = _update(columns)
    return Sql(stmt.returning(*COLUMNS) if returning else stmt)


@lru_cache(maxsize=512)
def _logged_update_of(columns: frozenset[str]) -> Sql:
    return _logging(_update(columns).returning(*COLUMNS))


def update_params(store: Store, customer: Customer, fields: Collection[str]) -> dict[str, Any]:
    """The parameters of ``update_of(set_columns(...))``: ``fields`` and the derived columns."""
    values = sealing.sealed_row(store, customer, fields)
    return {f"new_{name}": value for name, value in values.items()} | key_params(customer)


def set_columns(params: dict[str, Any]) -> frozenset[str]:
    return frozenset(name[4:] for name in params if name.startswith("new_"))


# Every plain column, named in each PostgreSQL UPDATE whatever changed: PostgreSQL writes a
# whole new row version anyway, and the statements stay few (one per set of changed sealed
# fields instead of one per set of changed fields: each costs a compile and, per connection,
# a PREPARE and a cached statement). SQLite rewrites the index entries of every column named
# in SET, so there the changed fields only are written.
_PLAIN_FIELDS = frozenset(CUSTOMER_FIELDS) - IDENTITY_FIELDS - STORE_FIELDS - SEALED_FIELDS


def _written(store: Store, fields: Collection[str]) -> set[str]:
    changed = {*fields, "version", "updated_at"}
    if store.conn.dialect == "postgresql":
        return changed | _PLAIN_FIELDS
    return changed


async def update(
    store: Store, customer: Customer, fields: Collection[str], recorded: Recorded
) -> Customer:
    """Write ``fields`` of ``customer`` with its new version and update time, its history
    row and its event."""
    params = update_params(store, customer, _written(store, fields))
    columns = set_columns(params)
    logged = _logged_update_of(columns)
    updated = await _logged(store, update_of(columns), logged, params, recorded)
    assert updated is not None, "update() is only called on a locked, existing customer"
    return updated


def _first_of(match: ColumnElement[bool]) -> Sql:
    where = and_(_c.client_id == sa.bindparam("client_id"), match)
    return Sql(select(*COLUMNS).where(where).order_by(_c.customer_number).limit(1))


_BY_PHONE = _first_of(
    or_(_c.phone_e164 == sa.bindparam("value"), _c.mobile_phone_e164 == sa.bindparam("value"))
)
_BY_IDENTIFICATION = _first_of(
    or_(
        _c.ssn_index == sa.bindparam("value"), _c.organization_number_index == sa.bindparam("value")
    )
)


async def find_by_phone(store: Store, client_id: int, e164: str) -> Customer | None:
    return await _one(store, _BY_PHONE, {"client_id": client_id, "value": e164})


async def find_by_identification(store: Store, client_id: int, value: str) -> Customer | None:
    index = store.vault.blind_index(value, client_id)
    return await _one(store, _BY_IDENTIFICATION, {"client_id": client_id, "value": index})


async def reseal_customers(
    store: Store, after: tuple[int, str] | None, limit: int
) -> tuple[int, tuple[Any, ...] | None]:
    """Re-encrypt with the current key the next ``limit`` customers after ``after``."""
    key = ("client_id", "customer_number")
    return await sealing.reseal_batch(
        store, customers, key, after, limit, sealing.resealed_customer
    )

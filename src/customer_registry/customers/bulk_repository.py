"""SQL for many customers at once: imports lock, insert and update whole batches, exports
stream a client's customers. Row values come from ``repository``, so personal data is sealed
and derived columns are computed exactly as for a single write.
"""

import json
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.customers import copy_writes
from customer_registry.customers.model import CUSTOMER_FIELDS, Customer
from customer_registry.customers.repository import (
    _COLUMNS,
    _customer,
    _row,
    set_columns,
    update_of,
    update_params,
)
from customer_registry.db import Sql, Store, customers

_c = customers.c
_IDENTIFIERS = {
    "paymentId": _c.payment_id,
    "internalNumber": _c.internal_number,
    "signUpId": _c.sign_up_id,
}


def _is_postgres(store: Store) -> bool:
    return store.conn.dialect == "postgresql"


def _locking_postgres() -> sa.Select[Any]:
    # One primary-key lookup per number, whatever the statistics say: on a table that was
    # not analyzed since it grew, "customer_number IN (...)" is planned as a scan of the
    # client's index range, which makes every batch of a large import slower than the last.
    wanted = (
        sa.func.unnest(bindparam("numbers", type_=postgresql.ARRAY(sa.String)))
        .table_valued("number")
        .render_derived(name="wanted")
    )
    where = sa.and_(_c.client_id == bindparam("client_id"), _c.customer_number == wanted.c.number)
    locked = select(*_COLUMNS).where(where).with_for_update().lateral("locked")
    return select(locked).select_from(wanted).join(locked, sa.true())


# SQLite has no FOR UPDATE: the writer's transaction holds the whole database.
_LOCK_MANY = Sql(
    _locking_postgres(),
    select(*_COLUMNS).where(
        _c.client_id == bindparam("client_id"),
        _c.customer_number.in_(
            select(sa.column("value")).select_from(sa.func.json_each(bindparam("numbers")))
        ),
    ),
)
# The columns the batch lookups key on: a whole-table ANALYZE also sorts a 30,000-row sample
# of every other column, 470 ms instead of 50 at 90,000 customers, several times an import.
_ANALYZE = Sql(sa.text("ANALYZE customers (client_id, customer_number)"))
_INSERT_SQLITE = Sql(
    sqlite.insert(customers).on_conflict_do_nothing().returning(_c.customer_number)
)


async def refresh_statistics(store: Store) -> None:
    """Let PostgreSQL's planner see how many customers a client has now.

    While the statistics say a client has no customers, a lookup of one customer by its
    primary key is planned as a walk through any index that starts with the client id: 48 ms
    instead of 0.1 ms at 100,000 customers, for every row of an import into a new client.
    (SQLite plans primary-key lookups by the key without statistics.)
    """
    if _is_postgres(store):
        await store.conn.execute(_ANALYZE)


async def lock_many(store: Store, client_id: int, numbers: Sequence[str]) -> dict[str, Customer]:
    """The stored customers among ``numbers``, locked until the transaction ends."""
    wanted = list(numbers) if _is_postgres(store) else json.dumps(list(numbers))
    rows = await store.conn.fetch(_LOCK_MANY, {"client_id": client_id, "numbers": wanted})
    return {row["customer_number"]: _customer(store, row) for row in rows}


Update = tuple[Customer, Collection[str]]  # the customer as written, and its changed fields


async def write_many(
    store: Store, creates: Sequence[Customer], updates: Sequence[Update]
) -> set[str]:
    """Insert ``creates`` and write the changed fields of ``updates`` (which must be locked).

    Returns the numbers of the creates that were not inserted: a customer of that number was
    created meanwhile, or one of its identifiers is taken.
    """
    create_rows = [_row(store, customer, CUSTOMER_FIELDS) for customer in creates]
    if _is_postgres(store):
        # One staging table for both: an updated row is written whole, which costs
        # PostgreSQL no more than naming its changed columns would.
        update_rows = [_row(store, customer, CUSTOMER_FIELDS) for customer, _ in updates]
        inserted = await copy_writes.write(store.conn, create_rows, update_rows)
    else:
        inserted = await _insert(store, create_rows)
        await _update(store, updates)
    return {customer.customer_number for customer in creates} - inserted


async def _insert(store: Store, rows: list[dict[str, Any]]) -> set[str]:
    inserted = set()
    for row in rows:  # SQLite answers in microseconds: no multi-row statement needed
        if (number := await store.conn.fetchval(_INSERT_SQLITE, row)) is not None:
            inserted.add(number)
    return inserted


async def _update(store: Store, updates: Sequence[Update]) -> None:
    """One executemany per set of changed fields: SQLite rewrites every index on a column
    that is named in SET, so naming only the changed ones saves most of the work."""
    groups: dict[frozenset[str], list[Customer]] = {}
    for customer, fields in updates:
        groups.setdefault(frozenset({*fields, "version", "updated_at"}), []).append(customer)
    for fields, group in groups.items():
        rows = [update_params(store, customer, fields) for customer in group]
        await store.conn.executemany(update_of(set_columns(rows[0]), returning=False), rows)


async def identifiers_taken(store: Store, customer: Customer) -> dict[str, str]:
    """Which identifiers ``customer`` brings that another customer holds, and whose they are."""
    given = {
        "paymentId": customer.payment_id,
        "internalNumber": customer.internal_number,
        "signUpId": customer.sign_up_id,
    }
    taken = {}
    for name, value in given.items():
        if not value:
            continue
        stmt = select(_c.customer_number).where(
            _c.client_id == customer.client_id, _IDENTIFIERS[name] == value
        )
        if (holder := await store.conn.fetchval(stmt.limit(1))) is not None:
            taken[name] = holder
    return taken


async def stream(store: Store, client_id: int, *, batch: int) -> AsyncIterator[Customer]:
    """The client's customers in customer-number order, ``batch`` rows in memory at a time."""
    stmt = select(*_COLUMNS).where(_c.client_id == client_id).order_by(_c.customer_number)
    async for row in store.conn.stream(stmt, None, batch=batch):
        yield _customer(store, row)

"""SQL for many customers at once: imports lock, insert and update whole batches, exports
stream a client's customers. Rows hold the values ``repository`` writes for a single write:
personal data sealed by it, derived columns computed by ``rules`` (tests compare the two).
"""

import json
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.customers import (
    changes,
    copy_writes,
    history_repository,
    identifiers,
    outbox,
    rules,
)
from customer_registry.customers.copy_writes import NAMES, Record
from customer_registry.customers.model import (
    CUSTOMER_FIELDS,
    SEALED_FIELDS,
    Audit,
    Customer,
    HistoryEntry,
)
from customer_registry.customers.repository import (
    COLUMNS,
    set_columns,
    update_of,
    update_params,
)
from customer_registry.customers.sealing import INDEXED_FIELDS, keyed, seal, unsealed_customer
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
    locked = select(*COLUMNS).where(where).with_for_update().lateral("locked")
    return select(locked).select_from(wanted).join(locked, sa.true())


# SQLite has no FOR UPDATE: the writer's transaction holds the whole database.
_LOCK_MANY = Sql(
    _locking_postgres(),
    select(*COLUMNS).where(
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
# The stored ones among the 9-digit identifiers of a batch's creates, by their unique indexes.
# Payment ids are 20 random digits and a check digit: not looked up, as no draw will ever
# repeat one; one an import brings that is taken fails the copy, and the staging path
# reports it.
_CLAIMABLE = (_c.internal_number, _c.sign_up_id)
_CLAIMED = Sql(
    select(*_CLAIMABLE).where(
        _c.client_id == bindparam("client_id"),
        sa.or_(
            *(
                column == sa.any_(bindparam(column.name, type_=postgresql.ARRAY(column.type)))
                for column in _CLAIMABLE
            )
        ),
    )
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
    return {row["customer_number"]: unsealed_customer(store, row) for row in rows}


Create = tuple[Customer, Audit]  # a new customer as written, and who writes it
Update = tuple[Customer, Collection[str]]  # the customer as written, and its changed fields


async def create_many(store: Store, creates: Sequence[Create], now: datetime) -> set[str]:
    """Insert the customers ``changes.creation`` makes of ``creates`` and their history
    entries (generated identifiers drawn for the batch).

    Returns the numbers of the creates that were not inserted: a customer of that number was
    created meanwhile, or one of its identifiers is taken.
    """
    if not creates:
        return set()
    drawn = identifiers.new_identifiers(len(creates))
    built = [created(store, *create, now, ids) for create, ids in zip(creates, drawn, strict=True)]
    records = [customer for customer, _, _ in built]
    if _is_postgres(store):
        inserted = await _insert_postgres(store, records)
    else:
        inserted = await _insert(store, [dict(zip(NAMES, found, strict=True)) for found in records])
    written = [(history, event) for found, history, event in built if found[_NUMBER] in inserted]
    await history_repository.add_many(store, [history for history, _ in written])
    await outbox.append_many(store, [event for _, event in written])
    return {customer.customer_number for customer, _ in creates} - inserted


async def update_many(store: Store, planned: Sequence[tuple[Customer, HistoryEntry]]) -> None:
    """Write the customers of ``planned`` (``changes.planned``; they must be locked) and
    their history entries. PostgreSQL: rows are written whole, which costs it no more than
    naming the changed columns would."""
    if _is_postgres(store):
        await copy_writes.write(store.conn, [], [record(store, new) for new, _ in planned])
    else:
        await _update(store, [(new, [c.field for c in entry.changes]) for new, entry in planned])
    entries = [history_repository.record(store, entry, new.data_key) for new, entry in planned]
    await history_repository.add_many(store, entries)
    await outbox.append_many(store, [outbox.record(store, new, entry) for new, entry in planned])


async def _insert_postgres(store: Store, records: list[Record]) -> set[str]:
    """Records whose identifiers are free are copied straight into the table; the others,
    and all of them if that copy meets a customer created meanwhile, go through the staging
    table, whose insert skips those that conflict. Returns the numbers inserted."""
    free = await _unclaimed(store, records)
    direct = [records[index] for index in free]
    if direct and not await copy_writes.insert_new(store.conn, direct):
        free = set()
    staged = [found for index, found in enumerate(records) if index not in free]
    inserted = await copy_writes.write(store.conn, staged, [])
    return inserted | {records[index][_NUMBER] for index in free}


async def _unclaimed(store: Store, records: Sequence[Record]) -> set[int]:
    """Which of the new ``records`` (by index) bring identifiers that neither a stored
    customer of their client holds nor an earlier one of them: those can be copied in.

    Generated internal numbers and sign-up ids are 9 random digits: at 100,000 customers,
    two batches of 5,000 in three would draw one that is taken, failing their copy.
    """
    wanted = [_IDENTIFIERS_OF(found) for found in records]
    params: dict[str, Any] = {"client_id": records[0][_CLIENT]}
    for column, position in zip(_CLAIMABLE, (1, 2), strict=True):
        params[column.name] = [ids[position] for ids in wanted]
    held: set[tuple[int, Any]] = set()  # (position in _IDENTIFIERS_OF, value)
    for row in await store.conn.fetch(_CLAIMED, params):
        held |= {(1, row[0]), (2, row[1])}
    free = set()
    for index, ids in enumerate(wanted):
        mine = set(enumerate(ids))
        if not mine & held:
            free.add(index)
            held |= mine
    return free


_CLIENT, _NUMBER = NAMES.index("client_id"), NAMES.index("customer_number")
_IDENTIFIERS_OF = itemgetter(
    *(NAMES.index(name) for name in ("payment_id", "internal_number", "sign_up_id"))
)
_FIELD_VALUES = attrgetter(*CUSTOMER_FIELDS)
_FIELD_AT = {name: index for index, name in enumerate(CUSTOMER_FIELDS)}
_IN_TABLE_ORDER = itemgetter(*NAMES)


def created(
    store: Store, customer: Customer, audit: Audit, now: datetime, ids: identifiers.Identifiers
) -> tuple[Record, history_repository.Record, outbox.Record]:
    """``record(store, new)``, ``history_repository.record(store, entry)`` and
    ``outbox.record(store, new, entry)`` for ``new, entry = changes.creation(customer, audit,
    now, ids)``, made from the values without either object: a third less CPU per created
    row (tests compare them)."""
    customer = keyed(store, customer)
    values = changes.created_values(customer, now, ids)
    created_changes = [(name, None, value) for name, value in changes.created_changes(values)]
    change: dict[str, Any] = {
        "client_id": customer.client_id,
        "customer_number": customer.customer_number,
        "version": 1,
        "changed_at": now,
        "audit": audit,
        "changes": created_changes,
    }
    history = history_repository.record_of(store, **change, data_key=customer.data_key)
    event = outbox.record_of(store, lambda name: values[_FIELD_AT[name]], **change)
    return _record(store, customer, values), history, event


def record(store: Store, customer: Customer) -> Record:
    """``_row(store, customer, CUSTOMER_FIELDS)`` in the table's column order, for COPY:
    the same values, built without the generality a single write's columns need."""
    return _record(store, customer, _FIELD_VALUES(customer))


def _record(store: Store, customer: Customer, values: Sequence[Any]) -> Record:
    """The record of ``values`` (in ``CUSTOMER_FIELDS`` order), whose data fields are
    ``customer``'s."""
    row = dict(zip(CUSTOMER_FIELDS, values, strict=True))
    for name in SEALED_FIELDS:
        row[name] = seal(store, customer, name, row[name])
    for name, index in INDEXED_FIELDS.items():
        value = getattr(customer, name)
        row[index] = None if value is None else store.vault.blind_index(value, customer.client_id)
    row.update(rules.all_derived_columns(customer))
    found: Record = _IN_TABLE_ORDER(row)
    return found


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
    stmt = select(*COLUMNS).where(_c.client_id == client_id).order_by(_c.customer_number)
    async for row in store.conn.stream(stmt, None, batch=batch):
        yield unsealed_customer(store, row)

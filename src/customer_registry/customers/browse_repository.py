"""The console's search statements: pages found by keyset, each read in index order.

Operators type a name's first letters or an identifier; a page is the next ``limit`` rows
after a position, never an offset and never a count of every match, so the thousandth page
of a common name costs what the first does at any size of client.
"""

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, bindparam, or_, select

from customer_registry.customers.model import Customer
from customer_registry.customers.repository import COLUMNS as _COLUMNS
from customer_registry.customers.sealing import unsealed_customer as _customer
from customer_registry.db import (
    Sql,
    Store,
    Tx,
    credential_clients,
    customer_counts,
    customers,
    operator_clients,
)

_c = customers.c
_UNSEALED: frozenset[str] = frozenset()
# A name matches when one of these starts with the typed prefix. The first name needs no
# stream of its own: the full name ("first last") starts with it.
NAME_STREAMS = (_c.full_name_key, _c.last_name_key, _c.company_name_key)
NAME_KEY_NAMES = tuple(column.name for column in NAME_STREAMS)
_EXACT_TERMS: dict[str, ColumnElement[bool]] = {
    "customerNumber": _c.customer_number == bindparam("customer_number"),
    "nationalId": _c.ssn_index == bindparam("ssn_index"),
    "organizationNumber": _c.organization_number_index == bindparam("organization_number_index"),
    "phone": or_(_c.phone_e164 == bindparam("phone"), _c.mobile_phone_e164 == bindparam("phone")),
    "email": _c.email_key == bindparam("email_key"),
}
_PARAMETERS = {
    "customerNumber": "customer_number",
    "nationalId": "ssn_index",
    "organizationNumber": "organization_number_index",
    "phone": "phone",
    "email": "email_key",
}
_OF_CLIENT = _c.client_id == bindparam("client_id")
_AFTER_NUMBER = _c.customer_number > bindparam("after_number")


def _customers(store: Store, rows: Iterable[Any]) -> list[Customer]:
    # A list shows no sealed field: nothing is decrypted.
    return [_customer(store, row, _UNSEALED) for row in rows]


_LISTING = Sql(
    select(*_COLUMNS)
    .where(_OF_CLIENT, _AFTER_NUMBER)
    .order_by(_c.customer_number)
    .limit(bindparam("limit"))
)


async def listing(store: Store, client_id: int, after: str, limit: int) -> list[Customer]:
    """The client's customers after customer number ``after``, in customer-number order."""
    params = {"client_id": client_id, "after_number": after, "limit": limit}
    return _customers(store, await store.conn.fetch(_LISTING, params))


@lru_cache(maxsize=32)
def _exact_statement(kinds: frozenset[str]) -> Sql:
    terms = [_EXACT_TERMS[kind] for kind in sorted(kinds)]
    return Sql(
        select(*_COLUMNS)
        .where(_OF_CLIENT, or_(*terms), _AFTER_NUMBER)
        .order_by(_c.customer_number)
        .limit(bindparam("limit"))
    )


async def exact(
    store: Store, client_id: int, values: dict[str, str], after: str, limit: int
) -> list[Customer]:
    """Customers one of whose identifiers equals its value in ``values`` (by kind: see
    ``_EXACT_TERMS``; national ID and organisation number as their blind indexes), after
    customer number ``after``, in customer-number order."""
    params: dict[str, Any] = {"client_id": client_id, "after_number": after, "limit": limit}
    params.update({_PARAMETERS[kind]: value for kind, value in values.items()})
    rows = await store.conn.fetch(_exact_statement(frozenset(values)), params)
    return _customers(store, rows)


def _canonical_here(column: sa.Column[Any]) -> ColumnElement[bool]:
    """The row's place is in this stream: no other name key of it starts with the prefix and
    sorts before this one (browse._canonical; ties are left to it). Rows of a common first
    name whose last name also matches ("anders aas" for "a") are thus passed over in the
    index scan, not sent back and skipped a round trip at a time."""
    prefix: sa.BindParameter[str] = bindparam("prefix")
    others = [other for other in NAME_STREAMS if other is not column]
    return sa.and_(*(or_(other.is_(None), other < prefix, other >= column) for other in others))


def _name_stream(stream: int, column: sa.Column[Any]) -> Any:
    after = sa.tuple_(bindparam("after_key"), bindparam("after_number"))
    return (
        select(
            *_COLUMNS, *NAME_STREAMS, column.label("sort_key"), sa.literal(stream).label("stream")
        )
        # One lower bound: with a second one (key >= prefix) PostgreSQL may start the index
        # scan at the weaker of the two and read every key before the prefix.
        .where(
            _OF_CLIENT,
            sa.tuple_(column, _c.customer_number) > after,
            column < bindparam("high"),
            _canonical_here(column),
        )
        .order_by(column, _c.customer_number)
        .limit(bindparam("limit"))
        .subquery()
    )


# One round trip for the three streams, each an index range read in order.
_NAME_STREAMS = Sql(
    sa.union_all(*(select(_name_stream(i, column)) for i, column in enumerate(NAME_STREAMS)))
)


async def name_streams(
    store: Store, client_id: int, prefix: str, after: tuple[str, str], limit: int
) -> list[Any]:
    """Up to ``limit`` rows of each name stream whose key starts with ``prefix``, after the
    position ``after`` (key, customer number); each row has its ``stream`` and ``sort_key``."""
    # Customer numbers are never empty: (prefix, "") comes before every key from the prefix on.
    after = max(after, (prefix, ""))
    params = {
        "client_id": client_id,
        "high": prefix + "\U0010ffff",
        "prefix": prefix,
        "after_key": after[0],
        "after_number": after[1],
        "limit": limit,
    }
    return await store.conn.fetch(_NAME_STREAMS, params)


def customer_of(store: Store, row: Any) -> Customer:
    return _customer(store, row, _UNSEALED)


_BY_NUMBER = Sql(select(*_COLUMNS).where(_OF_CLIENT, _c.customer_number == bindparam("number")))


async def get(
    store: Store, client_id: int, customer_number: str, shown: frozenset[str]
) -> Customer | None:
    """The customer; of the sealed fields, only those ``shown`` are decrypted."""
    params = {"client_id": client_id, "number": customer_number}
    row = await store.conn.fetchrow(_BY_NUMBER, params)
    return None if row is None else _customer(store, row, shown)


_COUNTED = sa.union_all(
    select(customer_counts.c.client_id, customer_counts.c.customers),
    select(credential_clients.c.client_id, sa.literal(0)),
    select(operator_clients.c.client_id, sa.literal(0)),
).subquery()
_CLIENTS = select(_COUNTED.c.client_id, sa.func.sum(_COUNTED.c.customers).label("customers"))
_OF_OPERATOR = _COUNTED.c.client_id.in_(
    select(operator_clients.c.client_id).where(
        operator_clients.c.operator_id == bindparam("operator_id")
    )
)
_ALL_CLIENTS = Sql(_CLIENTS.group_by(_COUNTED.c.client_id).order_by(_COUNTED.c.client_id))
_OPERATOR_CLIENTS = Sql(
    _CLIENTS.where(_OF_OPERATOR).group_by(_COUNTED.c.client_id).order_by(_COUNTED.c.client_id)
)


async def clients(conn: Tx, operator_id: str | None) -> list[tuple[int, int]]:
    """Clients with a customer, a credential or an operator, and their numbers of customers
    (from the counts the triggers keep); ``operator_id``: only those given to it."""
    if operator_id is None:
        rows = await conn.fetch(_ALL_CLIENTS)
    else:
        rows = await conn.fetch(_OPERATOR_CLIENTS, {"operator_id": operator_id})
    return [(int(row[0]), int(row[1])) for row in rows]

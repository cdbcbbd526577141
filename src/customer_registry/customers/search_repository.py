"""The search statements: one shape per kind of match and sort, compiled once each."""

from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, false, func, or_, select, true

from customer_registry.customers import rules
from customer_registry.customers.model import Customer, SearchQuery
from customer_registry.customers.repository import COLUMNS, NAME_KEYS
from customer_registry.customers.sealing import unsealed_customer
from customer_registry.db import Sql, Store, customer_counts, customers

_c = customers.c


_NAME_RANGES = or_(
    *(and_(column >= sa.bindparam("key"), column < sa.bindparam("upper")) for column in NAME_KEYS)
)
_MATCHES: dict[str, ColumnElement[bool]] = {
    "all": true(),
    "none": false(),
    "name": _NAME_RANGES,
    "customerNumber": _c.customer_number == sa.bindparam("value"),
    "ssn": _c.ssn_index == sa.bindparam("value"),
    "organizationNumber": _c.organization_number_index == sa.bindparam("value"),
}


def _match(store: Store, client_id: int, column: str, value: str) -> tuple[str, dict[str, Any]]:
    """The kind of match a search column and value make, and its parameters."""
    if column == "clientId":
        return ("all" if value.strip() == str(client_id) else "none"), {}
    if column == "name":
        key = rules.name_key(value)
        # A range instead of LIKE: both databases answer it from a plain B-tree index.
        return ("none", {}) if key is None else ("name", {"key": key, "upper": key + "\U0010ffff"})
    if column == "customerNumber":
        return column, {"value": value}
    return column, {"value": store.vault.blind_index(value, client_id)}


_SORT_KEYS: dict[str, ColumnElement[Any]] = {
    "clientId": _c.client_id,
    "customerNumber": _c.customer_number,
    "name": func.coalesce(_c.full_name_key, _c.company_name_key),
    # Encrypted values have no order; the blind index gives a stable, arbitrary one.
    "ssn": _c.ssn_index,
    "organizationNumber": _c.organization_number_index,
}


_NOT_NULL_SORTS = frozenset({"clientId", "customerNumber"})


_COUNTED = Sql(
    select(func.coalesce(func.sum(customer_counts.c.customers), 0)).where(
        customer_counts.c.client_id == sa.bindparam("client_id")
    )
)


async def count(store: Store, client_id: int) -> int:
    """How many customers the client has, from the counts the triggers keep (migration 0004):
    counting every index entry of a client grows with the client."""
    return int(await store.conn.fetchval(_COUNTED, {"client_id": client_id}))


def _order(sort: str, order: str) -> list[ColumnElement[Any]]:
    direction = "asc" if order == "asc" else "desc"
    sort_key = getattr(_SORT_KEYS[sort], direction)()
    # NULLS LAST on a NOT NULL key would stop PostgreSQL walking the primary key backwards.
    if sort not in _NOT_NULL_SORTS:
        sort_key = sort_key.nulls_last()
    return [sort_key, getattr(_c.customer_number, direction)()]


def _page(where: ColumnElement[bool], sort: str, order: str) -> Any:
    """The page's rows, found by their keys first: skipping ``offset`` rows then reads index
    entries only, and just the page's rows are fetched whole."""
    ordering = _order(sort, order)
    keys = (
        select(_c.client_id, _c.customer_number)
        .where(where)
        .order_by(*ordering)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
        .subquery()
    )
    on = and_(_c.client_id == keys.c.client_id, _c.customer_number == keys.c.customer_number)
    return select(*COLUMNS).select_from(customers.join(keys, on)).order_by(*ordering)


@lru_cache(maxsize=128)
def _search_statements(match: str, sort: str, order: str) -> tuple[Sql, Sql]:
    """The count and the page of one kind of search, built once."""
    where = and_(_c.client_id == sa.bindparam("client_id"), _MATCHES[match])
    return Sql(select(func.count()).where(where)), Sql(_page(where, sort, order))


async def search(
    store: Store, client_id: int, query: SearchQuery, shown: frozenset[str]
) -> tuple[list[Customer], int]:
    match, params = _match(store, client_id, query.column, query.value)
    counted, page = _search_statements(match, query.sort, query.order)
    params["client_id"] = client_id
    if match == "all":
        total = await count(store, client_id)
    else:
        total = int(await store.conn.fetchval(counted, params))
    offset = (query.page - 1) * query.per_page
    if offset >= total:
        return [], total
    rows = await store.conn.fetch(page, {**params, "limit": query.per_page, "offset": offset})
    return [unsealed_customer(store, row, shown) for row in rows], total

"""Every SQL statement on customers (SQLAlchemy Core). Dialect differences live here only."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Row,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customer_registry.customers import rules
from customer_registry.customers.model import CUSTOMER_FIELDS, Customer, SearchQuery
from customer_registry.db import customers

_c = customers.c
_RETURNING = tuple(_c[name] for name in CUSTOMER_FIELDS)
_PRIMARY_KEY = (_c.client_id, _c.customer_number)
_NAME_KEYS = (_c.first_name_key, _c.last_name_key, _c.full_name_key, _c.company_name_key)
# Generated identifiers are random; a clash with an existing one is retried with new ones.
_ID_ATTEMPTS = 5

Values = Mapping[str, Any]


def _customer(row: Row[Any]) -> Customer:
    return Customer(**{name: row._mapping[name] for name in CUSTOMER_FIELDS})


def _insert(conn: AsyncConnection, values: Values) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(customers).values(values)


def _fresh_ids() -> dict[str, Any]:
    return {
        "payment_id": rules.new_payment_id(),
        "internal_number": rules.new_internal_number(),
        "sign_up_id": rules.new_sign_up_id(),
    }


def _changed(columns: Iterable[str], new: Callable[[str], Any]) -> ColumnElement[bool]:
    return or_(*(_c[name].is_distinct_from(new(name)) for name in columns))


def _versioned(changed: ColumnElement[bool], updated_at: Any) -> dict[str, Any]:
    """A write that changes nothing keeps the version and the update time."""
    return {
        "version": case((changed, _c.version + 1), else_=_c.version),
        "updated_at": case((changed, updated_at), else_=_c.updated_at),
    }


async def _insert_with_fresh_ids(conn: AsyncConnection, build: Callable[[Values], Insert]) -> Any:
    for attempt in range(_ID_ATTEMPTS):
        try:
            async with conn.begin_nested():
                return (await conn.execute(build(_fresh_ids()))).one_or_none()
        except IntegrityError:
            if attempt == _ID_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def upsert(conn: AsyncConnection, values: Values, update_columns: Iterable[str]) -> Customer:
    """Insert the customer, or update ``update_columns`` of the stored one: one statement."""
    columns = tuple(update_columns)

    def build(ids: Values) -> Insert:
        stmt = _insert(conn, {**values, **ids})
        excluded = stmt.excluded
        changes = {name: excluded[name] for name in columns}
        changed = _changed(columns, lambda name: excluded[name])
        return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
            index_elements=_PRIMARY_KEY,
            set_={**changes, **_versioned(changed, excluded.updated_at)},
        ).returning(*_RETURNING)

    return _customer(await _insert_with_fresh_ids(conn, build))


async def insert_new(conn: AsyncConnection, values: Values) -> Customer | None:
    """Insert the customer unless the number is taken; None when it is."""

    def build(ids: Values) -> Insert:
        stmt = _insert(conn, {**values, **ids})
        return stmt.on_conflict_do_nothing(  # type: ignore[no-any-return]
            index_elements=_PRIMARY_KEY
        ).returning(*_RETURNING)

    row = await _insert_with_fresh_ids(conn, build)
    return None if row is None else _customer(row)


async def update_existing(
    conn: AsyncConnection,
    client_id: int,
    customer_number: str,
    values: Values,
    versions: frozenset[int] | None = None,
) -> Customer | None:
    """Update the given columns of a stored customer (at one of ``versions``, if given).

    None when there is no such customer.
    """
    changes = {name: value for name, value in values.items() if name != "updated_at"}
    changed = _changed(changes, lambda name: literal(changes[name], _c[name].type))
    stmt = (
        update(customers)
        .where(_c.client_id == client_id, _c.customer_number == customer_number)
        .values({**changes, **_versioned(changed, values["updated_at"])})
        .returning(*_RETURNING)
    )
    if versions is not None:
        stmt = stmt.where(_c.version.in_(versions))
    row = (await conn.execute(stmt)).one_or_none()
    return None if row is None else _customer(row)


def _by_number(client_id: int, customer_number: str) -> Select[Any]:
    return select(*_RETURNING).where(
        _c.client_id == client_id, _c.customer_number == customer_number
    )


async def get(conn: AsyncConnection, client_id: int, customer_number: str) -> Customer | None:
    row = (await conn.execute(_by_number(client_id, customer_number))).one_or_none()
    return None if row is None else _customer(row)


def _name_prefix(value: str) -> ColumnElement[bool]:
    key = rules.name_key(value)
    if key is None:
        return false()
    # A range instead of LIKE: both databases answer it from a plain B-tree index.
    upper = key + "\U0010ffff"
    return or_(*(and_(column >= key, column < upper) for column in _NAME_KEYS))


def _match(client_id: int, column: str, value: str) -> ColumnElement[bool]:
    if column == "clientId":
        return true() if value.strip() == str(client_id) else false()
    if column == "name":
        return _name_prefix(value)
    exact = {
        "customerNumber": _c.customer_number,
        "ssn": _c.ssn,
        "organizationNumber": _c.organization_number,
    }
    return exact[column] == value


_SORT_KEYS: dict[str, ColumnElement[Any]] = {
    "clientId": _c.client_id,
    "customerNumber": _c.customer_number,
    "name": func.coalesce(_c.full_name_key, _c.company_name_key),
    "ssn": _c.ssn,
    "organizationNumber": _c.organization_number,
}


async def search(
    conn: AsyncConnection, client_id: int, query: SearchQuery
) -> tuple[list[Customer], int]:
    where = and_(_c.client_id == client_id, _match(client_id, query.column, query.value))
    direction = "asc" if query.order == "asc" else "desc"
    order = [
        getattr(_SORT_KEYS[query.sort], direction)().nulls_last(),
        getattr(_c.customer_number, direction)(),
    ]
    page = (
        select(*_RETURNING)
        .where(where)
        .order_by(*order)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    rows = (await conn.execute(page)).all()
    total = (await conn.execute(select(func.count()).where(where))).scalar_one()
    return [_customer(row) for row in rows], total


async def find_by_phone(conn: AsyncConnection, client_id: int, e164: str) -> Customer | None:
    match = or_(_c.phone_e164 == e164, _c.mobile_phone_e164 == e164)
    return await _first(conn, and_(_c.client_id == client_id, match))


async def find_by_identification(
    conn: AsyncConnection, client_id: int, value: str
) -> Customer | None:
    match = or_(_c.ssn == value, _c.organization_number == value)
    return await _first(conn, and_(_c.client_id == client_id, match))


async def _first(conn: AsyncConnection, where: ColumnElement[bool]) -> Customer | None:
    stmt = select(*_RETURNING).where(where).order_by(_c.customer_number).limit(1)
    row = (await conn.execute(stmt)).one_or_none()
    return None if row is None else _customer(row)

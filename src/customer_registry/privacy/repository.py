"""Every SQL statement of an erasure and an export beyond the customer's own row."""

import json
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import select

from customer_registry.customers.outbox import camel
from customer_registry.db import (
    Sql,
    Tx,
    customer_erasures,
    customer_events,
    customer_history,
    customer_reveals,
    customers,
    idempotency_keys,
)

# What holds data of a customer, keyed by client and customer number.
_OF_CUSTOMER = {
    table: sa.and_(
        table.c.client_id == sa.bindparam("client_id"),
        table.c.customer_number == sa.bindparam("customer_number"),
    )
    for table in (
        customers,
        customer_history,
        customer_reveals,
        customer_events,
        idempotency_keys,
        customer_erasures,
    )
}
_h, _r, _x = customer_history.c, customer_reveals.c, customer_erasures.c
_HISTORY = Sql(select(customer_history).where(_OF_CUSTOMER[customer_history]).order_by(_h.version))
_REVEALS = Sql(
    select(_r.revealed_at, _r.operator_name, _r.fields, _r.request_id)
    .where(_OF_CUSTOMER[customer_reveals])
    .order_by(_r.revealed_at)
)
_EVENTS = Sql(
    select(customer_events).where(_OF_CUSTOMER[customer_events]).order_by(customer_events.c.seq)
)
_ANSWERS = Sql(select(sa.func.count()).where(_OF_CUSTOMER[idempotency_keys]))
_EVENT_COUNT = Sql(select(sa.func.count()).where(_OF_CUSTOMER[customer_events]))
_RECORD_ERASURE = Sql(sa.insert(customer_erasures))
_ERASURES = Sql(
    select(customer_erasures)
    .where(
        _x.client_id == sa.bindparam("client_id"),
        sa.or_(
            sa.bindparam("customer_number", type_=sa.String) == None,  # noqa: E711
            _x.customer_number == sa.bindparam("customer_number"),
        ),
    )
    .order_by(_x.erased_at)
)
_DELETES = tuple(
    Sql(sa.delete(table).where(_OF_CUSTOMER[table]))
    for table in (customer_history, customer_reveals, idempotency_keys, customers)
)


def _key(client_id: int, customer_number: str) -> dict[str, Any]:
    return {"client_id": client_id, "customer_number": customer_number}


async def history_rows(conn: Tx, client_id: int, customer_number: str) -> list[Any]:
    return await conn.fetch(_HISTORY, _key(client_id, customer_number))


async def reveals(conn: Tx, client_id: int, customer_number: str) -> list[Any]:
    return await conn.fetch(_REVEALS, _key(client_id, customer_number))


async def events(conn: Tx, client_id: int, customer_number: str) -> list[Any]:
    """The customer's kept events (read from the client's: there is no index by customer)."""
    return await conn.fetch(_EVENTS, _key(client_id, customer_number))


async def event_count(conn: Tx, client_id: int, customer_number: str) -> int:
    return int(await conn.fetchval(_EVENT_COUNT, _key(client_id, customer_number)))


async def stored_answers(conn: Tx, client_id: int, customer_number: str) -> int:
    """How many idempotency records hold an answer about the customer."""
    return int(await conn.fetchval(_ANSWERS, _key(client_id, customer_number)))


def tombstone(row: Any) -> dict[str, Any]:
    """A history entry without its values: when, who, which fields."""
    return {
        "version": row["version"],
        "changedAt": row["changed_at"].isoformat(),
        "dialect": row["dialect"],
        "credentialId": row["credential_id"],
        "requestId": row["request_id"],
        "fields": [camel(change["field"]) for change in json.loads(row["changes"])],
    }


async def erase(conn: Tx, erasure: dict[str, Any], tombstones: dict[str, Any]) -> None:
    """Record the erasure with the history's tombstones, and delete the customer, its history,
    its reveals and the stored answers about it (the caller scrubs its events)."""
    key = _key(erasure["client_id"], erasure["customer_number"])
    record = {**erasure, "id": str(uuid.uuid4()), "tombstones": orjson.dumps(tombstones).decode()}
    await conn.execute(_RECORD_ERASURE, record)
    for delete in _DELETES:
        await conn.execute(delete, key)


async def erasures(conn: Tx, client_id: int, customer_number: str | None) -> list[Any]:
    return await conn.fetch(_ERASURES, {"client_id": client_id, "customer_number": customer_number})

"""Every SQL statement on reveals: who was shown a customer's masked personal data, when."""

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import select

from customer_registry.customers.model import Reveal
from customer_registry.db import Sql, Tx, customer_reveals

_r = customer_reveals.c
_ADD = Sql(sa.insert(customer_reveals))
_OF_CUSTOMER = (
    _r.client_id == sa.bindparam("client_id"),
    _r.customer_number == sa.bindparam("customer_number"),
)
_BETWEEN = Sql(
    select(_r.revealed_at, _r.operator_name, _r.fields)
    .where(
        *_OF_CUSTOMER,
        _r.revealed_at >= sa.bindparam("since"),
        _r.revealed_at < sa.bindparam("until"),
    )
    .order_by(_r.revealed_at.desc())
)


async def add(
    conn: Tx,
    client_id: int,
    customer_number: str,
    *,
    operator_name: str,
    fields: Collection[str],
    at: datetime,
    request_id: str | None = None,
) -> None:
    values = {
        "client_id": client_id,
        "customer_number": customer_number,
        "id": str(uuid.uuid4()),
        "revealed_at": at,
        "operator_name": operator_name,
        "fields": ",".join(sorted(fields)),
        "request_id": request_id,
    }
    await conn.execute(_ADD, values)


async def between(
    conn: Tx, client_id: int, customer_number: str, since: datetime, until: datetime
) -> list[Reveal]:
    """The customer's reveals from ``since`` until before ``until``, newest first."""
    params = {
        "client_id": client_id,
        "customer_number": customer_number,
        "since": since,
        "until": until,
    }
    rows = await conn.fetch(_BETWEEN, params)
    return [Reveal(_utc(row[0]), row[1], tuple(row[2].split(","))) for row in rows]


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

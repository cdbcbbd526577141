"""Every SQL statement on webhook endpoints and their deliveries."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, delete, func, select, update

from customer_registry.db import (
    Sql,
    Tx,
    customer_events,
    webhook_deliveries,
    webhook_endpoints,
)
from customer_registry.vault import Vault


def secret_context(client_id: int, endpoint_id: str) -> str:
    """The associated data of an endpoint's sealed secret: part of the stored data."""
    return f"webhooks/{client_id}/{endpoint_id}"


_w, _d, _e = webhook_endpoints.c, webhook_deliveries.c, customer_events.c
_ENDPOINT = sa.and_(_w.client_id == bindparam("client_id"), _w.id == bindparam("endpoint_id"))
_OF_ENDPOINT = sa.and_(
    _d.client_id == bindparam("client_id"), _d.endpoint_id == bindparam("endpoint_id")
)
_INSERT = Sql(sa.insert(webhook_endpoints))


async def insert(conn: Tx, row: dict[str, Any]) -> None:
    await conn.execute(_INSERT, row)


def _counted(failed: bool) -> Any:
    """How many deliveries of the endpoint (the outer row) failed, or are still pending."""
    state = _d.failed_at.is_not(None) if failed else _d.failed_at.is_(None)
    mine = sa.and_(_d.client_id == _w.client_id, _d.endpoint_id == _w.id, state)
    return select(func.count()).select_from(webhook_deliveries).where(mine).scalar_subquery()


_LISTED = select(
    webhook_endpoints,
    _counted(failed=False).label("pending"),
    _counted(failed=True).label("failed"),
)
_OF_CLIENT = Sql(_LISTED.where(_w.client_id == bindparam("client_id")).order_by(_w.created_at))
_EVERY = Sql(_LISTED.order_by(_w.client_id, _w.created_at))
_BY_ID = Sql(select(webhook_endpoints).where(_w.id == bindparam("endpoint_id")))


async def listed(conn: Tx, client_id: int | None) -> list[Any]:
    """The client's endpoints (None: every client's) with their pending and failed counts."""
    if client_id is None:
        return await conn.fetch(_EVERY)
    return await conn.fetch(_OF_CLIENT, {"client_id": client_id})


async def by_id(conn: Tx, endpoint_id: str) -> Any:
    """The endpoint of that id, whichever client's (ids are random: one at most)."""
    return await conn.fetchrow(_BY_ID, {"endpoint_id": endpoint_id})


_STATE_COLUMNS = (
    _w.id, _w.url, _w.event_types, _w.created_at, _w.position, _w.retry_at, _w.disabled_at,
    _w.last_error, _w.generation,
)  # fmt: skip
_KEPT_COLUMNS = (
    _d.endpoint_id, _d.position, _d.attempts, _d.next_attempt_at, _d.failed_at, _d.last_error,
)  # fmt: skip
_STATES = Sql(
    select(*_STATE_COLUMNS)
    .where(_w.client_id == bindparam("client_id"))
    .order_by(_w.created_at, _w.id)
)
# The endpoint ids listed, so that each endpoint is one range of the deliveries' primary key
# (client, endpoint, position), however many deliveries the page's events lack. As a join,
# SQLite read every delivery of the client instead, the endpoints inside that loop.
_BETWEEN = Sql(
    select(*_KEPT_COLUMNS).where(
        _d.client_id == bindparam("client_id"),
        _d.endpoint_id.in_(select(_w.id).where(_w.client_id == bindparam("client_id"))),
        _d.position >= bindparam("low"),
        _d.position <= bindparam("high"),
    )
)


async def states(conn: Tx, client_id: int) -> list[Any]:
    """The client's endpoints, oldest first, without their secrets or delivery counts."""
    return await conn.fetch(_STATES, {"client_id": client_id})


async def between(conn: Tx, client_id: int, low: int, high: int) -> list[Any]:
    """The pending and given-up deliveries of the client's events ``low`` to ``high``."""
    return await conn.fetch(_BETWEEN, {"client_id": client_id, "low": low, "high": high})


_DELETE_DELIVERIES = Sql(delete(webhook_deliveries).where(_OF_ENDPOINT))
_DELETE = Sql(delete(webhook_endpoints).where(_ENDPOINT).returning(_w.id))


async def remove(conn: Tx, client_id: int, endpoint_id: str) -> bool:
    params = {"client_id": client_id, "endpoint_id": endpoint_id}
    await conn.execute(_DELETE_DELIVERIES, params)
    return await conn.fetchval(_DELETE, params) is not None


_DELETE_AFTER = Sql(
    delete(webhook_deliveries).where(_OF_ENDPOINT, _d.position > bindparam("after"))
)
_REWIND = Sql(
    update(webhook_endpoints)
    .where(_ENDPOINT)
    .values(
        position=bindparam("after"),
        generation=_w.generation + 1,
        retry_at=None,
        failing_since=None,
        disabled_at=None,
        last_error=None,
    )
)


async def rewind(conn: Tx, client_id: int, endpoint_id: str, after: int) -> None:
    """Deliver again every event after position ``after``; re-enable the endpoint."""
    params = {"client_id": client_id, "endpoint_id": endpoint_id, "after": after}
    await conn.execute(_DELETE_AFTER, params)
    await conn.execute(_REWIND, params)


_NEW_EVENTS = sa.exists(
    select(_e.seq).where(_e.client_id == _w.client_id, _e.position > _w.position)
)
_DUE_DELIVERIES = sa.exists(
    select(_d.position).where(
        _d.client_id == _w.client_id,
        _d.endpoint_id == _w.id,
        _d.failed_at.is_(None),
        _d.next_attempt_at <= bindparam("now"),
    )
)
_READY = sa.and_(
    _w.disabled_at.is_(None),
    sa.or_(_w.retry_at.is_(None), _w.retry_at <= bindparam("now")),
    sa.or_(_NEW_EVENTS, _DUE_DELIVERIES),
)
_DUE = Sql(select(_w.client_id, _w.id).where(_READY))
_ENABLED = Sql(select(_w.id).where(_w.disabled_at.is_(None)).limit(1))
# PostgreSQL: one deliverer per endpoint, the others pass it by.
_LOCK = Sql(
    select(webhook_endpoints).where(_ENDPOINT, _READY).with_for_update(skip_locked=True),
    select(webhook_endpoints).where(_ENDPOINT, _READY),
)


async def due(conn: Tx, now: datetime) -> list[tuple[int, str]]:
    """Enabled endpoints, not waiting for a failed receiver, with something to deliver."""
    return [(row[0], row[1]) for row in await conn.fetch(_DUE, {"now": now})]


async def any_enabled(conn: Tx) -> bool:
    return await conn.fetchval(_ENABLED) is not None


async def claim(conn: Tx, client_id: int, endpoint_id: str, now: datetime) -> Any:
    """The endpoint, if still due; on PostgreSQL locked until the transaction ends, None if
    another deliverer holds it."""
    params = {"client_id": client_id, "endpoint_id": endpoint_id, "now": now}
    return await conn.fetchrow(_LOCK, params)


# A delivery's own client, position and customer are its event's.
_EVENT_COLUMNS = [
    column
    for column in customer_events.columns
    if column.name not in ("client_id", "position", "customer_number")
]
_PENDING = Sql(
    select(webhook_deliveries, *_EVENT_COLUMNS)
    .join(
        customer_events,
        sa.and_(_e.client_id == _d.client_id, _e.position == _d.position),
    )
    .where(_OF_ENDPOINT, _d.failed_at.is_(None))
    .order_by(_d.position)
    .limit(bindparam("limit"))
)


async def pending(conn: Tx, client_id: int, endpoint_id: str, limit: int) -> list[Any]:
    """The endpoint's deliveries not given up, oldest first, each with its event's columns."""
    params = {"client_id": client_id, "endpoint_id": endpoint_id, "limit": limit}
    return await conn.fetch(_PENDING, params)


DELIVERY_COLUMNS = (
    "client_id", "endpoint_id", "position", "customer_number", "attempts", "first_attempt_at",
    "next_attempt_at", "failed_at", "last_error",
)  # fmt: skip
_CHANGING = DELIVERY_COLUMNS[4:]
ENDPOINT_STATE = ("position", "retry_at", "failing_since", "disabled_at", "last_error")
_ADD_DELIVERY = Sql(sa.insert(webhook_deliveries))
_KEY = sa.and_(_OF_ENDPOINT, _d.position == bindparam("key_position"))
_UPDATE_DELIVERY = Sql(
    update(webhook_deliveries)
    .where(_KEY)
    .values({name: bindparam(f"new_{name}") for name in _CHANGING})
)
_DROP_DELIVERY = Sql(delete(webhook_deliveries).where(_KEY))
# Only if no replay came since the round began: on SQLite nothing holds the endpoint during
# a round, and a replay or removal meanwhile wins (the round's sends are then sent again).
_UPDATE_ENDPOINT = Sql(
    update(webhook_endpoints)
    .where(_ENDPOINT, _w.generation == bindparam("generation"))
    .values({name: bindparam(f"new_{name}") for name in ENDPOINT_STATE})
    .returning(_w.id)
)
Key = tuple[int, str]  # client id, endpoint id


def _key(key: Key) -> dict[str, Any]:
    return {"client_id": key[0], "endpoint_id": key[1]}


@dataclass
class RoundOutcome:
    """What a delivery round did: the endpoint's new ``ENDPOINT_STATE``, new and changed
    delivery rows (by column), and the positions of pending deliveries now delivered."""

    state: dict[str, Any]
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)


async def save_round(conn: Tx, key: Key, generation: int, outcome: RoundOutcome) -> bool:
    """Record a round that began at the endpoint's ``generation``; False (nothing recorded)
    when the endpoint was replayed or removed since."""
    new_state = {f"new_{name}": outcome.state[name] for name in ENDPOINT_STATE}
    params = _key(key) | new_state | {"generation": generation}
    if await conn.fetchval(_UPDATE_ENDPOINT, params) is None:
        return False
    if outcome.added:
        await conn.executemany(_ADD_DELIVERY, outcome.added)
    if outcome.changed:
        rows = [
            _key(key) | {"key_position": row["position"]}
            | {f"new_{name}": row[name] for name in _CHANGING}
            for row in outcome.changed
        ]  # fmt: skip
        await conn.executemany(_UPDATE_DELIVERY, rows)
    if outcome.delivered:
        rows = [_key(key) | {"key_position": position} for position in outcome.delivered]
        await conn.executemany(_DROP_DELIVERY, rows)
    return True


_SECRETS = Sql(select(_w.client_id, _w.id, _w.secret))
_RESEAL = Sql(update(webhook_endpoints).where(_ENDPOINT).values(secret=bindparam("sealed")))


async def reseal(conn: Tx, vault: Vault) -> int:
    """Seal every endpoint's secret with the vault's current key (``keys rotate``)."""
    done = 0
    for row in await conn.fetch(_SECRETS):
        sealed = vault.reseal(row["secret"], secret_context(row["client_id"], row["id"]))
        if sealed is not None:
            key = {"client_id": row["client_id"], "endpoint_id": row["id"], "sealed": sealed}
            await conn.execute(_RESEAL, key)
            done += 1
    return done

"""Every SQL statement on change events: their positions, the feed's pages, the purge.

Positions are the feed's order: per client, dense, in commit order. SQLite runs one writer at
a time, so the writer gives its events their positions (``customers.outbox``). PostgreSQL
commits concurrent transactions in any order, whatever ``seq`` they took: an event that a
feed reader cannot see yet may have a smaller ``seq`` than one it has seen. So events start
there without a position, and ``sequence`` gives the committed ones theirs afterwards, under
the client's ``event_positions`` row lock: whatever it can see has committed, and whatever
commits later gets a later position. A customer's events keep their version order, because
the next change of a customer takes its ``seq`` only after the previous one committed (the
customer's row lock) and is visible only if that one is.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.customers import sealing
from customer_registry.customers.outbox import organization_context
from customer_registry.db import (
    Database,
    Sql,
    Store,
    Tx,
    customer_events,
    event_positions,
    webhook_deliveries,
    webhook_endpoints,
)

_e, _p = customer_events.c, event_positions.c
_CLIENT = _e.client_id == bindparam("client_id")
# Enough for the largest import batch at once; more are ordered in further rounds.
SEQUENCE_BATCH = 10_000

_UNSEQUENCED = Sql(select(_e.seq).where(_CLIENT, _e.position.is_(None)).limit(1))
_CLIENTS_UNSEQUENCED = select(_e.client_id).where(_e.position.is_(None)).distinct()
_w = webhook_endpoints.c
_DELIVERED_TO = sa.exists(
    select(_w.id).where(_w.client_id == _e.client_id, _w.disabled_at.is_(None))
)
_UNSEQUENCED_CLIENTS = {
    False: Sql(_CLIENTS_UNSEQUENCED),
    True: Sql(_CLIENTS_UNSEQUENCED.where(_DELIVERED_TO)),
}
# Taken first: sequencers of one client take turns, and the next statement's snapshot sees
# every position the previous one gave.
_LOCK_POSITIONS = Sql(
    postgresql.insert(event_positions)
    .values(client_id=bindparam("client_id"), position=0, purged_through=0)
    .on_conflict_do_update(index_elements=["client_id"], set_={"position": _p.position})
    .returning(_p.position)
)


def _assigning() -> Sql:
    last = bindparam("last", type_=sa.BigInteger)
    picked = (
        select(_e.seq)
        .where(_CLIENT, _e.position.is_(None))
        .order_by(_e.seq)
        .limit(bindparam("batch"))
        .subquery("picked")
    )
    numbered = select(
        picked.c.seq, (last + func.row_number().over(order_by=picked.c.seq)).label("position")
    ).cte("numbered")
    assigned = (
        update(customer_events)
        .where(_CLIENT, _e.seq == numbered.c.seq)
        .values(position=numbered.c.position)
        .returning(_e.position)
        .cte("assigned")
    )
    newest = select(func.coalesce(func.max(assigned.c.position), last)).scalar_subquery()
    return Sql(
        update(event_positions)
        .where(_p.client_id == bindparam("client_id"))
        .values(position=newest)
        .returning(_p.position)
    )


_ASSIGN = _assigning()


async def sequence(database: Database, client_id: int) -> None:
    """Give the client's committed events without a position theirs (PostgreSQL)."""
    if database.dialect != "postgresql":
        return
    params: dict[str, Any] = {"client_id": client_id}
    while True:
        async with database.reading() as conn:
            if await conn.fetchval(_UNSEQUENCED, params) is None:
                return
        async with database.transaction() as conn:
            last = await conn.fetchval(_LOCK_POSITIONS, params)
            newest = await conn.fetchval(_ASSIGN, {**params, "last": last, "batch": SEQUENCE_BATCH})
        if newest - last < SEQUENCE_BATCH:
            return


async def sequence_all(database: Database, *, delivered_only: bool = False) -> None:
    """``sequence`` every client that has events without a position (``delivered_only``:
    every such client with an enabled webhook endpoint; the others' feeds are sequenced
    when read, and by the purge)."""
    if database.dialect != "postgresql":
        return
    async with database.reading() as conn:
        clients = [row[0] for row in await conn.fetch(_UNSEQUENCED_CLIENTS[delivered_only])]
    for client_id in clients:
        await sequence(database, client_id)


_PAGE = Sql(
    select(customer_events)
    .where(_CLIENT, _e.position > bindparam("after"))
    .order_by(_e.position)
    .limit(bindparam("limit"))
)
_AT_POSITION = Sql(select(customer_events).where(_CLIENT, _e.position == bindparam("position")))
_OF_CLIENT = _p.client_id == bindparam("client_id")
_POSITIONS = Sql(
    select(
        select(func.max(_e.position))
        .where(_CLIENT, _e.position.is_not(None))
        .scalar_subquery()
        .label("newest"),
        select(_p.position).where(_OF_CLIENT).scalar_subquery().label("given"),
        select(_p.purged_through).where(_OF_CLIENT).scalar_subquery().label("purged"),
    )
)


# The console's pages, newest first: a range of the (client_id, position) index read
# backwards from the cursor, whatever the number of events.
_NEWEST = Sql(
    select(_e.position, _e.type, _e.customer_number, _e.version, _e.occurred_at, _e.source)
    .where(_CLIENT, _e.position.is_not(None), _e.position < bindparam("before"))
    .order_by(_e.position.desc())
    .limit(bindparam("limit"))
)


async def newest(conn: Tx, client_id: int, before: int, limit: int) -> list[Any]:
    """The client's events before position ``before``, newest first."""
    return await conn.fetch(_NEWEST, {"client_id": client_id, "before": before, "limit": limit})


async def page(conn: Tx, client_id: int, after: int, limit: int) -> list[Any]:
    """The client's events after position ``after``, in position order."""
    return await conn.fetch(_PAGE, {"client_id": client_id, "after": after, "limit": limit})


async def at_position(conn: Tx, client_id: int, position: int) -> Any:
    return await conn.fetchrow(_AT_POSITION, {"client_id": client_id, "position": position})


async def positions(conn: Tx, client_id: int) -> tuple[int, int]:
    """The client's last position given and last position purged (0, 0: none yet). SQLite's
    writers keep no counter: there the newest event tells, or the purge if it took them all."""
    row = await conn.fetchrow(_POSITIONS, {"client_id": client_id})
    purged = row["purged"] or 0
    return max(row["newest"] or 0, row["given"] or 0, purged), purged


# The clients whose events may be purged, and their last purged position. PostgreSQL's
# sequencer made a row for each (it purges sequenced events only); SQLite's writers none.
_known = select(_e.client_id).distinct().subquery("known")
_HEADS = Sql(
    select(_p.client_id, _p.purged_through),
    select(_known.c.client_id, func.coalesce(_p.purged_through, 0)).select_from(
        _known.outerjoin(event_positions, _p.client_id == _known.c.client_id)
    ),
)
_OLDEST = Sql(
    select(_e.position, _e.occurred_at)
    .where(_CLIENT, _e.position > bindparam("after"))
    .order_by(_e.position)
    .limit(bindparam("batch"))
)
_RANGE = (_e.position > bindparam("after"), _e.position <= bindparam("through"))
_DELETE_EVENTS = Sql(delete(customer_events).where(_CLIENT, *_RANGE))
_DELETE_DELIVERIES = Sql(
    delete(webhook_deliveries).where(
        webhook_deliveries.c.client_id == bindparam("client_id"),
        webhook_deliveries.c.position <= bindparam("through"),
    )
)


# Never backwards: every worker purges, and two may purge one client at once.
def _purged(insert: Any) -> Any:
    through: sa.BindParameter[int] = bindparam("through")
    return (
        insert(event_positions)
        .values(client_id=bindparam("client_id"), position=0, purged_through=through)
        .on_conflict_do_update(
            index_elements=["client_id"],
            set_={
                "purged_through": sa.case(
                    (_p.purged_through < through, through), else_=_p.purged_through
                )
            },
        )
    )


_PURGED = Sql(_purged(postgresql.insert), _purged(sqlite.insert))


async def heads(conn: Tx) -> list[tuple[int, int]]:
    """Every client with positions, and its last purged position."""
    return [(row[0], row[1]) for row in await conn.fetch(_HEADS)]


def _expired_through(rows: Sequence[Any], cutoff: datetime) -> int | None:
    """The last position of the run of expired events ``rows`` start with."""
    through = None
    for row in rows:
        if row["occurred_at"] >= cutoff:
            break
        through = row["position"]
    return through


async def purge_batch(
    database: Database, client_id: int, after: int, cutoff: datetime, batch: int
) -> int | None:
    """Delete the client's oldest events, from the one after ``after`` up to the first that
    occurred at ``cutoff`` or later, at most ``batch``; returns the last position deleted
    (None: nothing expired). Positions are kept in order: a straggler with an older time
    behind a younger event waits for that one."""
    params: dict[str, Any] = {"client_id": client_id, "after": after}
    async with database.reading() as conn:
        rows = await conn.fetch(_OLDEST, {**params, "batch": batch})
    through = _expired_through(rows, cutoff)
    if through is None:
        return None
    async with database.transaction() as conn:
        params["through"] = through
        await conn.execute(_DELETE_EVENTS, params)
        await conn.execute(_DELETE_DELIVERIES, params)
        await conn.execute(_PURGED, params)
    return through


def _resealed(store: Store, row: Mapping[str, Any]) -> dict[str, Any]:
    token = row["organization_number"]
    if token is None:
        return {}
    where = organization_context(row["client_id"], row["event_id"])
    sealed = store.vault.reseal(token, where)
    return {} if sealed is None else {"organization_number": sealed}


async def reseal(
    store: Store, after: tuple[Any, ...] | None, limit: int
) -> tuple[int, tuple[Any, ...] | None]:
    """Re-encrypt with the current key the organisation numbers of the next ``limit`` events
    (``keys rotate``); returns how many changed and where to go on (None: done)."""
    key = ("client_id", "seq")
    return await sealing.reseal_batch(store, customer_events, key, after, limit, _resealed)

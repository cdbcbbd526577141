"""The client's recent events and where each stands at each of its webhook endpoints (the
console's events page), and a replay from one of them.

No table records each delivery that succeeded: an endpoint keeps the position up to which it
has taken events, and a row only for a delivery that did not succeed at once (pending, or
given up). An event up to that position without a row was delivered, not wanted (its type)
or older than the endpoint; only an endpoint never replayed tells the last two apart.

Never imports FastAPI, never commits.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from customer_registry.db import Database, Tx
from customer_registry.errors import NotFound
from customer_registry.events import repository, service
from customer_registry.events import webhook_repository as webhooks

_NEWEST = 2**63 - 1
State = Literal["delivered", "pending", "failed", "skipped"]
# Why a delivery is in its state, beyond the state itself: ``retrying`` (failed attempts,
# another is due), ``waiting`` (behind an earlier delivery of its customer), ``queued`` (not
# taken yet), ``receiver-down`` (queued, the endpoint waits after a failure), ``disabled``,
# ``given-up``, ``type`` (not among the endpoint's types), ``older`` (than the endpoint).
Why = Literal[
    "", "retrying", "waiting", "queued", "receiver-down", "disabled", "given-up", "type", "older"
]


class EventNotFound(NotFound):
    code = "event-not-found"
    title = "Event not found"

    def __init__(self, client_id: int, position: int, purged: int) -> None:
        if position <= purged:
            super().__init__(
                f"event #{position} of client {client_id} is older than the retention and was "
                f"purged: replay from event #{purged + 1} or later"
            )
        else:
            super().__init__(f"client {client_id} has no event #{position} yet")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    event_types: frozenset[str] | None  # None: every type
    created_at: datetime
    position: int  # every event up to this one was taken
    retry_at: datetime | None
    disabled_at: datetime | None
    last_error: str | None
    replayed: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    state: State
    why: Why = ""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    position: int
    type: str
    customer_number: str
    version: int
    occurred_at: datetime
    source: str
    deliveries: tuple[Delivery, ...]  # one per endpoint, in the endpoints' order


@dataclass(frozen=True, slots=True)
class Recent:
    endpoints: list[Endpoint]
    events: list[Event]
    older: int | None  # the next page's events come before this position; None: no more


def _endpoint(row: Any) -> Endpoint:
    types = row["event_types"]
    return Endpoint(
        id=row["id"], url=row["url"], event_types=frozenset(json.loads(types)) if types else None,
        created_at=row["created_at"], position=row["position"], retry_at=row["retry_at"],
        disabled_at=row["disabled_at"], last_error=row["last_error"],
        replayed=row["generation"] > 0,
    )  # fmt: skip


def _kept(row: Any) -> Delivery:
    """A delivery that did not succeed at once: given up, retried, or waiting its turn."""
    if row["failed_at"] is not None:
        return Delivery("failed", "given-up", row["attempts"], last_error=row["last_error"])
    why: Why = "retrying" if row["attempts"] else "waiting"
    return Delivery("pending", why, row["attempts"], row["next_attempt_at"], row["last_error"])


def _not_taken(endpoint: Endpoint) -> Delivery:
    if endpoint.disabled_at is not None:
        return Delivery("failed", "disabled", last_error=endpoint.last_error)
    if endpoint.retry_at is not None:
        return Delivery("pending", "receiver-down", 0, endpoint.retry_at, endpoint.last_error)
    return Delivery("pending", "queued")


def delivery(event: Any, endpoint: Endpoint, kept: Any) -> Delivery:
    """Where ``event`` stands at ``endpoint``; ``kept``: its delivery row, if any."""
    if endpoint.event_types is not None and event["type"] not in endpoint.event_types:
        return Delivery("skipped", "type")
    if kept is not None:
        return _kept(kept)
    if event["position"] > endpoint.position:
        return _not_taken(endpoint)
    if not endpoint.replayed and event["occurred_at"] < endpoint.created_at:
        return Delivery("skipped", "older")
    return Delivery("delivered")


def _event(row: Any, endpoints: list[Endpoint], kept: dict[tuple[str, int], Any]) -> Event:
    found = tuple(delivery(row, e, kept.get((e.id, row["position"]))) for e in endpoints)
    return Event(
        row["position"], row["type"], row["customer_number"], row["version"],
        row["occurred_at"], row["source"], found,
    )  # fmt: skip


async def _kept_rows(conn: Tx, client_id: int, rows: list[Any]) -> dict[tuple[str, int], Any]:
    low, high = rows[-1]["position"], rows[0]["position"]
    found = await webhooks.between(conn, client_id, low, high)
    return {(row["endpoint_id"], row["position"]): row for row in found}


async def recent(
    database: Database, conn: Tx, client_id: int, before: int | None, limit: int
) -> Recent:
    """The client's ``limit`` events before position ``before`` (None: the newest), newest
    first, each with its delivery to each of the client's endpoints."""
    # As the feed does: events committed on PostgreSQL get their positions when first read.
    await repository.sequence(database, client_id)
    rows = await repository.newest(conn, client_id, before or _NEWEST, limit + 1)
    shown = rows[:limit]
    endpoints = [_endpoint(row) for row in await webhooks.states(conn, client_id)]
    kept = await _kept_rows(conn, client_id, shown) if shown and endpoints else {}
    older = shown[-1]["position"] if len(rows) > limit else None
    return Recent(endpoints, [_event(row, endpoints, kept) for row in shown], older)


async def replay_from(conn: Tx, client_id: int, endpoint_id: str, position: int) -> int:
    """Send the client's endpoint the event at ``position`` and every later one again, and
    enable it (``webhooks replay`` does the same from a cursor); returns the position."""
    found = await service.endpoint(conn, endpoint_id)
    if found["client_id"] != client_id:
        raise service.WebhookNotFound(endpoint_id)
    # Rewound past the newest event, the endpoint would skip the events still to come.
    newest, purged = await repository.positions(conn, client_id)
    if not purged < position <= newest:
        raise EventNotFound(client_id, position, purged)
    return await service.replay(conn, endpoint_id, position - 1) + 1

"""Event and webhook use cases: the feed, and the endpoints' life (add, list, remove, replay).

The feed takes the database rather than one transaction: a long poll waits up to 30 s, and
holds a connection only for the moments it looks (every ``POLL_SECONDS``).
"""

import asyncio
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customer_registry.db import Database, Store, Tx
from customer_registry.errors import BusinessError, NotFound
from customer_registry.events import repository, sending
from customer_registry.events import webhook_repository as endpoints

POLL_SECONDS = 0.05  # a long poll sees a change within this (plus the look itself)


class CursorAhead(BusinessError):
    status = 400
    code = "cursor-ahead"
    title = "Cursor past the newest event"

    def __init__(self) -> None:
        super().__init__(
            "the cursor is past the newest event: replayed from there, the endpoint would "
            "skip the events still to come"
        )


class CursorExpired(BusinessError):
    status = 410
    code = "cursor-expired"
    title = "Cursor older than the retention"

    def __init__(self) -> None:
        super().__init__(
            "events after this cursor were purged (kept for CUSTOMER_REGISTRY_EVENT_RETENTION_"
            "DAYS days): read the feed from its start, without 'after', and reconcile"
        )


class WebhookNotFound(NotFound):
    code = "webhook-not-found"
    title = "Webhook endpoint not found"

    def __init__(self, endpoint_id: str) -> None:
        super().__init__(f"no webhook endpoint {endpoint_id!r} here")


@dataclass(frozen=True, slots=True)
class Page:
    events: list[Any]  # event rows, in position order
    last: int  # the position the next page starts after


async def _page(database: Database, client_id: int, after: int | None, limit: int) -> Page:
    async with database.reading() as conn:
        start = (await repository.positions(conn, client_id))[1] if after is None else after
        rows = await repository.page(conn, client_id, start, limit)
        # Read after the page: a purge that took events of it shows here.
        if after is not None and after < (await repository.positions(conn, client_id))[1]:
            raise CursorExpired()
    return Page(rows, rows[-1]["position"] if rows else start)


async def feed(
    database: Database, client_id: int, after: int | None, limit: int, wait: float = 0
) -> Page:
    """The client's events after position ``after`` (None: from the oldest kept), at most
    ``limit``; with ``wait``, up to that many seconds for one to commit when there is none."""
    deadline = time.monotonic() + wait
    while True:
        await repository.sequence(database, client_id)
        page = await _page(database, client_id, after, limit)
        if page.events or time.monotonic() >= deadline:
            return page
        await asyncio.sleep(POLL_SECONDS)


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    endpoint: dict[str, Any]
    secret: str


async def add_webhook(
    store: Store, client_id: int, url: str, event_types: Sequence[str] | None
) -> NewEndpoint:
    """A new endpoint (``url`` checked already), sent the events committed from now on."""
    endpoint_id = f"whk_{secrets.token_urlsafe(12)}"
    secret = sending.new_secret()
    last, _ = await repository.positions(store.conn, client_id)
    row = {
        "client_id": client_id,
        "id": endpoint_id,
        "url": url,
        "event_types": json.dumps(list(event_types)) if event_types else None,
        "secret": store.vault.encrypt(secret, endpoints.secret_context(client_id, endpoint_id)),
        "created_at": datetime.now(UTC),
        "position": last,
        "retry_at": None,
        "failing_since": None,
        "disabled_at": None,
        "last_error": None,
        "generation": 0,
    }
    await endpoints.insert(store.conn, row)
    return NewEndpoint(row, secret)


async def webhooks(conn: Tx, client_id: int | None) -> list[Any]:
    """The client's endpoints (None: every client's) with their delivery counts."""
    return await endpoints.listed(conn, client_id)


async def remove_webhook(conn: Tx, client_id: int | None, endpoint_id: str) -> None:
    """Remove the endpoint and its pending and failed deliveries (None: whichever client's)."""
    found = await endpoints.by_id(conn, endpoint_id)
    if found is None or (client_id is not None and found["client_id"] != client_id):
        raise WebhookNotFound(endpoint_id)
    await endpoints.remove(conn, found["client_id"], endpoint_id)


async def endpoint(conn: Tx, endpoint_id: str) -> Any:
    found = await endpoints.by_id(conn, endpoint_id)
    if found is None:
        raise WebhookNotFound(endpoint_id)
    return found


async def replay(conn: Tx, endpoint_id: str, after: int | None) -> int:
    """Send the endpoint every kept event after position ``after`` (None: all of them)
    again, and enable it; returns the position it starts after."""
    found = await endpoint(conn, endpoint_id)
    newest, purged = await repository.positions(conn, found["client_id"])
    start = purged if after is None else after
    if start < purged:
        raise CursorExpired()
    if start > newest:
        # Rewound past the newest event, the endpoint would skip the events still to come.
        raise CursorAhead()
    await endpoints.rewind(conn, found["client_id"], endpoint_id, start)
    return start

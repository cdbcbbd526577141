"""Expired records are deleted: idempotency records after their 24 hours, token-failure
counts once their window ended, console sessions once expired, change events after their
retention (with the webhook deliveries of those events). ``serve`` does it in the background
of every worker; the CLI on demand (``idempotency purge``).

Each batch is a transaction of its own: on SQLite a long delete would hold the write lock,
and every write of every worker would wait for it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog

from customer_registry.auth import throttle
from customer_registry.console import sessions
from customer_registry.db import Database, Tx
from customer_registry.events import repository as events
from customer_registry.http import idempotency

logger = structlog.get_logger(__name__)

PURGE_INTERVAL_SECONDS = 600.0
_BATCH = 1000

Batch = Callable[[Tx], Awaitable[int]]


async def _purge(database: Database, purge_batch: Batch) -> int:
    deleted = 0
    while True:
        async with database.transaction() as conn:
            count = await purge_batch(conn)
        deleted += count
        if count < _BATCH:
            return deleted
        await asyncio.sleep(0)  # requests waiting for the connection or lock go first


async def purge_idempotency(database: Database) -> int:
    """Delete every expired idempotency record; return how many."""
    return await _purge(database, lambda conn: idempotency.purge_expired(conn, batch=_BATCH))


async def purge_token_failures(database: Database) -> int:
    """Delete every token-failure count whose window ended; return how many."""
    return await _purge(database, lambda conn: throttle.purge_expired(conn, batch=_BATCH))


async def purge_sessions(database: Database) -> int:
    """Delete every expired console session; return how many."""
    return await _purge(database, lambda conn: sessions.purge_expired(conn, batch=_BATCH))


async def purge_events(database: Database, retention: timedelta) -> int:
    """Delete every change event older than ``retention``; return how many."""
    await events.sequence_all(database)  # positions first: the purge goes by them
    cutoff = datetime.now(UTC) - retention
    async with database.reading() as conn:
        heads = await events.heads(conn)
    deleted = 0
    for client_id, after in heads:
        while through := await events.purge_batch(database, client_id, after, cutoff, _BATCH):
            deleted += through - after
            after = through
            await asyncio.sleep(0)
    return deleted


async def purge_periodically(
    database: Database, interval: float, event_retention: timedelta = timedelta(days=30)
) -> None:
    """Purge now and then every ``interval`` seconds, until cancelled."""
    while True:
        try:
            records = await purge_idempotency(database)
            counts = await purge_token_failures(database)
            ended = await purge_sessions(database)
            purged = await purge_events(database, event_retention)
        except Exception as exc:
            # Whatever it was (an unreachable database, a busy SQLite lock), the next round
            # deletes what this one could not: the loop must outlive any one failure.
            logger.warning("purge of expired records failed", exc_info=exc)
        else:
            if records or counts or ended or purged:
                logger.info(
                    "expired records purged",
                    idempotency=records,
                    token_failures=counts,
                    console_sessions=ended,
                    events=purged,
                )
        await asyncio.sleep(interval)

"""The deliverer: each endpoint's events, in order per customer, at least once.

It runs in every ``serve`` worker (unless ``CUSTOMER_REGISTRY_DELIVER_WEBHOOKS=false``) and as
``customer-registry deliver``, never on a request's path. One deliverer works on an endpoint
at a time: on PostgreSQL the one whose round transaction holds the endpoint's row (``FOR
UPDATE SKIP LOCKED``: the others pass it by), and the round records what happened in that
transaction, so a deliverer killed mid-round leaves everything as it was and the next round
sends it again (at least once; receivers de-duplicate by ``webhook-id``). On SQLite, where a
transaction cannot stay open without stopping every writer, one process delivers: the one
holding the lock file beside the database (``rounds`` then records in a short transaction).
"""

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import structlog

from customer_registry.config import Settings
from customer_registry.db import Database, Tx, database_url
from customer_registry.events import repository
from customer_registry.events import webhook_repository as endpoints
from customer_registry.events.rounds import (
    Context,
    Observer,
    Policy,
    Round,
    Unit,
)
from customer_registry.events.sending import Sender
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)

IDLE_SECONDS = 0.1  # between looks for work, unless a round was cut short by its budget
# Rounds at once per process, so that a slow receiver does not hold up the others; each
# holds a pooled connection on PostgreSQL: a third of the pool at most, the rest is requests'.
CONCURRENT_ROUNDS = 4


def _held(conn: Tx) -> Unit:
    @asynccontextmanager
    async def unit(writes: bool) -> AsyncIterator[Tx]:
        yield conn

    return unit


def _turns(database: Database) -> Unit:
    def unit(writes: bool) -> AbstractAsyncContextManager[Tx]:
        return database.transaction() if writes else database.reading()

    return unit


async def _deliver(context: Context, client_id: int, endpoint_id: str) -> bool:
    """A round for the endpoint, if it is still due and no one else holds it; whether its
    budget ended it."""
    database, now = context.database, datetime.now(UTC)
    async with context.rounds:
        if database.dialect == "postgresql":
            async with database.transaction() as conn:
                endpoint = await endpoints.claim(conn, client_id, endpoint_id, now)
                if endpoint is None:
                    return False
                return await Round(context, endpoint, now).run(_held(conn))
        async with database.reading() as conn:
            endpoint = await endpoints.claim(conn, client_id, endpoint_id, now)
        if endpoint is None:
            return False
        return await Round(context, endpoint, now).run(_turns(database))


async def deliver_due(context: Context) -> bool:
    """A round for every endpoint that has something due now; whether more is due at once
    (a round was cut short by its budget). Otherwise the next look waits a little, so that
    rounds carry many events each, not one."""
    await repository.sequence_all(context.database, delivered_only=True)
    async with context.database.reading() as conn:
        due = await endpoints.due(conn, datetime.now(UTC))
    busy = await asyncio.gather(*(_deliver(context, *key) for key in due))
    return any(busy)


class _LockFile:
    """SQLite: the one deliverer among the processes on the database file."""

    def __init__(self, settings: Settings) -> None:
        url = database_url(settings.database_url)
        self.path = None
        if url.get_backend_name() == "sqlite":
            self.path = Path(f"{url.database}-deliver.lock")
        self._fd: int | None = None

    def held(self) -> bool:
        if self.path is None or self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock (so does dying)
            self._fd = None


@asynccontextmanager
async def deliverer(
    database: Database, vault: Vault, settings: Settings, observer: Observer | None = None
) -> AsyncIterator[Context]:
    """What ``deliver_due`` needs, for as long as the block runs."""
    sender = Sender(
        timeout=settings.webhook_timeout_seconds, allow_private=settings.webhook_allow_private
    )
    async with sender:
        yield Context(
            database,
            vault,
            sender,
            Policy.of(settings),
            observer,
            asyncio.Semaphore(max(1, min(CONCURRENT_ROUNDS, settings.db_pool_size // 3))),
        )


async def deliver_now(database: Database, vault: Vault, settings: Settings) -> bool:
    """Deliver what is due now, round after round, until nothing is; False when another
    deliverer holds the SQLite database's lock file (and nothing was done)."""
    lock = _LockFile(settings)
    if not lock.held():
        return False
    try:
        async with deliverer(database, vault, settings) as context:
            while await deliver_due(context):
                pass
    finally:
        lock.release()
    return True


async def deliver_forever(
    database: Database, vault: Vault, settings: Settings, observer: Observer | None = None
) -> None:
    """Deliver until cancelled; a failing round is logged and the loop goes on."""
    lock = _LockFile(settings)
    try:
        async with deliverer(database, vault, settings, observer) as context:
            while True:
                busy = False
                try:
                    busy = lock.held() and await deliver_due(context)
                except Exception as exc:
                    logger.warning("webhook delivery round failed", exc_info=exc)
                await asyncio.sleep(0 if busy else IDLE_SECONDS)
    finally:
        lock.release()

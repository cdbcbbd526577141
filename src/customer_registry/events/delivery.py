"""The deliverer: each endpoint's events, in order per customer, at least once.

It runs in every ``serve`` worker (unless ``CUSTOMER_REGISTRY_DELIVER_WEBHOOKS=false``) and as
``customer-registry deliver``, never on a request's path. One deliverer works on an endpoint
at a time: on PostgreSQL the one whose round transaction holds the endpoint's row (``FOR
UPDATE SKIP LOCKED``: the others pass it by); on SQLite, where a transaction cannot stay open
without stopping every writer, the one process holding the lock file beside the database.

A round sends first the endpoint's pending deliveries that are due (``webhook_deliveries``:
earlier failures and what waits behind them), then the events after the endpoint's position,
and records what happened when it ends: on PostgreSQL in the transaction holding the row, so
a deliverer killed mid-round leaves everything as it was and the next round sends it again
(at least once; receivers de-duplicate by ``webhook-id``). An event whose customer has an
earlier delivery pending waits behind it; a failed delivery is retried with exponential
backoff and jitter, and given up (``failed_at``, kept visible) once its first attempt is
older than ``WEBHOOK_RETRY_FOR_SECONDS``; an endpoint failing that long is disabled.
"""

import asyncio
import fcntl
import json
import os
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog

from customer_registry.config import Settings
from customer_registry.db import Database, Tx, database_url
from customer_registry.events import repository, schemas
from customer_registry.events import webhook_repository as endpoints
from customer_registry.events.sending import Sender, Sent
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)

ROUND_EVENTS = 200  # sends per round at most...
ROUND_SECONDS = 2.0  # ...and no new send after this long: the row lock is held meanwhile
PENDING_LIMIT = 1000  # an endpoint with this many pending takes no new events meanwhile
IDLE_SECONDS = 0.1  # between looks for work when there was none
CONCURRENT_ROUNDS = 4  # per process: a slow receiver does not hold up the others


class Observer(Protocol):
    def delivery(self, outcome: str, lag_seconds: float | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Policy:
    first_retry: float
    max_delay: float
    retry_for: float

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        return cls(
            settings.webhook_retry_base_seconds,
            settings.webhook_retry_max_seconds,
            settings.webhook_retry_for_seconds,
        )

    def delay(self, attempts: int) -> timedelta:
        """After the ``attempts``-th failure: doubling from the first retry's delay up to the
        maximum, each drawn between half and all of it (receivers recovering from an outage
        are not hit by every endpoint's retries at once)."""
        full = min(self.max_delay, self.first_retry * 2 ** min(attempts - 1, 40))
        return timedelta(seconds=full * random.uniform(0.5, 1.0))


@dataclass(frozen=True, slots=True)
class Context:
    database: Database
    vault: Vault
    sender: Sender
    policy: Policy
    observer: Observer | None
    rounds: asyncio.Semaphore


Unit = Callable[[bool], AbstractAsyncContextManager[Tx]]  # (writes) -> statements


class _Round:
    def __init__(self, context: Context, endpoint: Any, now: datetime) -> None:
        self.context, self.now = context, now
        self.endpoint = {name: endpoint[name] for name in endpoints.ENDPOINT_STATE}
        self.key = (endpoint["client_id"], endpoint["id"])
        self.url = endpoint["url"]
        self.secret = context.vault.decrypt(endpoint["secret"], endpoints.secret_context(*self.key))
        types = endpoint["event_types"]
        self.types = frozenset(json.loads(types)) if types else None
        self.blocked: set[str] = set()  # customers with an earlier delivery pending
        self.added: list[dict[str, Any]] = []
        self.changed: list[dict[str, Any]] = []
        self.delivered: list[int] = []
        self.stopped = False
        self.sends = 0
        self.ends = time.monotonic() + ROUND_SECONDS

    def _open(self) -> bool:
        return not self.stopped and self.sends < ROUND_EVENTS and time.monotonic() < self.ends

    async def run(self, unit: Unit) -> None:
        client_id, endpoint_id = self.key
        async with unit(False) as conn:
            waiting = await endpoints.pending(conn, client_id, endpoint_id, PENDING_LIMIT)
        for row in waiting:
            await self._retry(row)
        if self._open() and len(waiting) < PENDING_LIMIT:
            async with unit(False) as conn:
                new = await repository.page(conn, client_id, self.endpoint["position"], 500)
            for row in new:
                if not self._open():
                    break
                await self._first(row)
        self._settle()
        async with unit(True) as conn:
            await endpoints.save_round(conn, self.key, self.endpoint, self.added, self.changed)
            await endpoints.drop_delivered(conn, self.key, self.delivered)

    async def _retry(self, row: Any) -> None:
        customer = row["customer_number"]
        if customer in self.blocked:
            return
        if row["next_attempt_at"] > self.now or not self._open():
            self.blocked.add(customer)
            return
        sent = await self._send(row)
        if sent.delivered:
            self.delivered.append(row["position"])
        else:
            delivery = {name: row[name] for name in endpoints.DELIVERY_COLUMNS}
            self.changed.append(self._failed(delivery, sent))

    async def _first(self, row: Any) -> None:
        self.endpoint["position"] = row["position"]  # delivered, pending or not wanted
        if self.types is not None and row["type"] not in self.types:
            return
        delivery = {
            "client_id": self.key[0],
            "endpoint_id": self.key[1],
            "position": row["position"],
            "customer_number": row["customer_number"],
            "attempts": 0,
            "first_attempt_at": None,
            "next_attempt_at": self.now,
            "failed_at": None,
            "last_error": None,
        }
        if row["customer_number"] in self.blocked:
            self.added.append(delivery)
            return
        sent = await self._send(row)
        if not sent.delivered:
            self.added.append(self._failed(delivery, sent))

    async def _send(self, row: Any) -> Sent:
        self.sends += 1
        body = orjson.dumps(schemas.event(row, self.context.vault))
        sent = await self.context.sender.send(self.url, self.secret, row["event_id"], body)
        if sent.delivered:
            self.endpoint["failing_since"] = None
            lag = time.time() - row["occurred_at"].timestamp()
            self._observe("delivered", lag)
        return sent

    def _failed(self, delivery: dict[str, Any], sent: Sent) -> dict[str, Any]:
        """``delivery`` after a failed attempt: retried later, or given up."""
        attempts = delivery["attempts"] + 1
        first = delivery["first_attempt_at"] or self.now
        given_up = (self.now - first).total_seconds() >= self.context.policy.retry_for
        retry_at = self.now + self.context.policy.delay(attempts)
        delivery |= {
            "attempts": attempts,
            "first_attempt_at": first,
            "next_attempt_at": retry_at,
            "failed_at": self.now if given_up else None,
            "last_error": sent.error,
        }
        if not given_up:
            self.blocked.add(delivery["customer_number"])
        self.endpoint["failing_since"] = self.endpoint["failing_since"] or self.now
        self.endpoint["last_error"] = sent.error
        if sent.receiver_down:
            self.stopped = True
            self.endpoint["retry_at"] = retry_at
        self._observe("given_up" if given_up else "failed")
        return delivery

    def _settle(self) -> None:
        if not self.stopped:
            self.endpoint["retry_at"] = None
        failing = self.endpoint["failing_since"]
        if failing is not None and (
            (self.now - failing).total_seconds() >= self.context.policy.retry_for
        ):
            self.endpoint["disabled_at"] = self.now
            logger.warning("webhook endpoint disabled", client_id=self.key[0], id=self.key[1])

    def _observe(self, outcome: str, lag: float | None = None) -> None:
        if self.context.observer is not None:
            self.context.observer.delivery(outcome, lag)


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
    """One round for the endpoint, if it is still due and no one else holds it."""
    database, now = context.database, datetime.now(UTC)
    async with context.rounds:
        if database.dialect == "postgresql":
            async with database.transaction() as conn:
                endpoint = await endpoints.claim(conn, client_id, endpoint_id, now)
                if endpoint is not None:
                    await _Round(context, endpoint, now).run(_held(conn))
            return endpoint is not None
        async with database.reading() as conn:
            endpoint = await endpoints.claim(conn, client_id, endpoint_id, now)
        if endpoint is not None:
            await _Round(context, endpoint, now).run(_turns(database))
        return endpoint is not None


async def deliver_due(context: Context) -> bool:
    """A round for every endpoint that has something due now; whether any ran."""
    await repository.sequence_all(context.database)
    async with context.database.reading() as conn:
        due = await endpoints.due(conn, datetime.now(UTC))
    ran = await asyncio.gather(*(_deliver(context, *key) for key in due))
    return any(ran)


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
            asyncio.Semaphore(CONCURRENT_ROUNDS),
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
                ran = False
                try:
                    ran = lock.held() and await deliver_due(context)
                except Exception as exc:
                    logger.warning("webhook delivery round failed", exc_info=exc)
                await asyncio.sleep(0 if ran else IDLE_SECONDS)
    finally:
        lock.release()

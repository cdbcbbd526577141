"""One delivery round of one endpoint: its due pending deliveries first, then its new events.

The round sends in position order and keeps a customer's events in order: an event whose
customer has an earlier delivery pending is queued behind it (a pending row with no attempt)
instead of being sent. A failed attempt is retried with exponential backoff and jitter, and
given up (``failed_at``, kept visible) once its first attempt is older than
``WEBHOOK_RETRY_FOR_SECONDS``; an endpoint failing that long is disabled. What happened is
recorded when the round ends (``delivery`` decides in which transaction).
"""

import asyncio
import json
import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
import structlog

from customer_registry.config import Settings
from customer_registry.db import Database, Tx
from customer_registry.events import repository, schemas
from customer_registry.events import webhook_repository as endpoints
from customer_registry.events.sending import Sender, Sent
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)

ROUND_EVENTS = 200  # sends per round at most...
ROUND_SECONDS = 2.0  # ...and no new send after this long: the row lock is held meanwhile
PENDING_LIMIT = 1000  # an endpoint with this many pending takes no new events meanwhile


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


class Round:
    def __init__(self, context: Context, endpoint: Any, now: datetime) -> None:
        self.context, self.now = context, now
        self.outcome = endpoints.RoundOutcome({n: endpoint[n] for n in endpoints.ENDPOINT_STATE})
        self.endpoint = self.outcome.state  # changed as the round goes
        self.generation: int = endpoint["generation"]
        self.key = (endpoint["client_id"], endpoint["id"])
        self.url = endpoint["url"]
        self.secret = context.vault.decrypt(endpoint["secret"], endpoints.secret_context(*self.key))
        types = endpoint["event_types"]
        self.types = frozenset(json.loads(types)) if types else None
        self.blocked: set[str] = set()  # customers with an earlier delivery pending
        self.stopped = False
        self.sends = 0
        self.ends = time.monotonic() + ROUND_SECONDS

    def _open(self) -> bool:
        return not self.stopped and self.sends < ROUND_EVENTS and time.monotonic() < self.ends

    async def run(self, unit: Unit) -> bool:
        """Send what is due; whether the round's budget ended it (more may be due at once)."""
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
            await endpoints.save_round(conn, self.key, self.generation, self.outcome)
        return not self.stopped and not self._open()

    async def _retry(self, row: Any) -> None:
        customer = row["customer_number"]
        if customer in self.blocked:
            return
        if row["next_attempt_at"] > self.now or not self._open():
            self.blocked.add(customer)
            return
        sent = await self._send(row)
        if sent.delivered:
            self.outcome.delivered.append(row["position"])
        else:
            delivery = {name: row[name] for name in endpoints.DELIVERY_COLUMNS}
            self.outcome.changed.append(self._failed(delivery, sent))

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
            self.outcome.added.append(delivery)
            return
        sent = await self._send(row)
        if not sent.delivered:
            self.outcome.added.append(self._failed(delivery, sent))

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

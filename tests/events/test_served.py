"""The issue's acceptance runs against a real ``serve --workers 2`` and a real receiver:
concurrent writers, a racing feed consumer, delivery in the server's background, SIGKILL."""

import asyncio
import itertools
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from customer_registry.auth import credentials
from customer_registry.db import customer_events
from tests.conftest import start_server, token_for
from tests.events.conftest import events_url, webhooks_url
from tests.events.receiver import Receiver
from tests.horizon.conftest import customer_url, person

logger = logging.getLogger(__name__)
CUSTOMERS = 50
UPDATES = 1000
FAST_RETRIES = {
    "CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE": "true",
    "CUSTOMER_REGISTRY_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
    "CUSTOMER_REGISTRY_WEBHOOK_RETRY_MAX_SECONDS": "0.2",
}


@asynccontextmanager
async def _served(
    database_url: str, key_file: Path, workdir: Path, token: str
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    process, base = await asyncio.to_thread(
        lambda: start_server(database_url, key_file, workdir, workers=2, **FAST_RETRIES)
    )
    limits = httpx.Limits(max_connections=CUSTOMERS, keepalive_expiry=1)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=60
        ) as http:
            yield process, http
    finally:
        if process.poll() is None:
            process.terminate()
        await asyncio.to_thread(process.wait, 30)


async def _update(http: httpx.AsyncClient, client_id: int, n: int) -> None:
    number, email = f"c{n % CUSTOMERS}", f"u{n}@mail.com"
    response = await http.put(customer_url(client_id, number), json=person(email=email))
    assert response.status_code == 200, response.text


async def _consume(http: httpx.AsyncClient, client_id: int, expected: int) -> list[Any]:
    """Poll the feed with long polls while the writers write, as a consumer would."""
    seen: list[Any] = []
    after = None
    for _ in range(10_000):
        params: dict[str, Any] = {"limit": 37, "wait": 2}
        if after is not None:
            params["after"] = after
        page = (await http.get(events_url(client_id), params=params)).json()
        seen += page["events"]
        after = page["next"]
        if len(seen) >= expected:
            break
    return seen


def _distinct(receiver: Receiver) -> int:
    return len({r.headers["webhook-id"] for r in receiver.received})


def _first_arrivals(events: Iterable[dict[str, Any]]) -> dict[str, list[int]]:
    """Each customer's versions in the order they first arrived (duplicates dropped)."""
    found: dict[str, list[int]] = {}
    known = set()
    for event in events:
        if event["id"] not in known:
            known.add(event["id"])
            found.setdefault(event["customerNumber"], []).append(event["version"])
    return found


async def _commits_out_of_seq_order(app: FastAPI, client_id: int) -> int:
    """How often an event's ``seq`` is below its predecessor's in the feed: the committed
    later than an event taken after it (PostgreSQL; never on SQLite)."""
    e = customer_events.c
    query = select(e.seq).where(e.client_id == client_id).order_by(e.position)
    async with app.state.runtime.database.reading() as conn:
        seqs = [row[0] for row in await conn.fetch(query)]
    return sum(1 for before, after in itertools.pairwise(seqs) if after < before)


async def test_concurrent_updates_are_in_the_feed_once_and_delivered_in_order(
    app: FastAPI,
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    client_id: int,
    database_url: str,
    key_file: Path,
    tmp_path: Path,
) -> None:
    token = await token_for(client, credential)
    async with Receiver() as receiver, _served(database_url, key_file, tmp_path, token) as served:
        _, http = served
        added = await http.post(webhooks_url(client_id), json={"url": receiver.url})
        assert added.status_code == 201
        consumer = asyncio.ensure_future(_consume(http, client_id, UPDATES))
        writes = asyncio.Semaphore(CUSTOMERS)

        async def update(n: int) -> None:
            async with writes:
                await _update(http, client_id, n)

        await asyncio.gather(*(update(n) for n in range(UPDATES)))
        seen = await asyncio.wait_for(consumer, 120)
        await receiver.wait_for(lambda: len(_first_arrivals(receiver.delivered())) == CUSTOMERS)
        await receiver.wait_for(
            lambda: sum(map(len, _first_arrivals(receiver.delivered()).values())) >= UPDATES
        )

    in_feed = [(e["customerNumber"], e["version"]) for e in seen]
    assert len(in_feed) == len(set(in_feed)) == UPDATES  # every version once
    by_customer = _first_arrivals(seen)
    assert all(versions == list(range(1, len(versions) + 1)) for versions in by_customer.values())
    delivered = _first_arrivals(receiver.delivered())
    assert delivered == by_customer  # every version delivered, in order per customer
    inversions = await _commits_out_of_seq_order(app, client_id)
    logger.warning(
        "%d requests to the receiver for %d events; %d committed out of seq order",
        len(receiver.received),
        UPDATES,
        inversions,
    )


async def test_a_server_killed_while_delivering_loses_nothing(
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    client_id: int,
    database_url: str,
    key_file: Path,
    tmp_path: Path,
) -> None:
    token = await token_for(client, credential)
    async with Receiver(delay=0.05) as receiver:
        async with _served(database_url, key_file, tmp_path, token) as (process, http):
            await http.post(webhooks_url(client_id), json={"url": receiver.url})
            await asyncio.gather(*(_update(http, client_id, n) for n in range(60)))
            await receiver.wait_for(lambda: len(receiver.received) >= 5)
            os.killpg(process.pid, signal.SIGKILL)
            await asyncio.to_thread(process.wait, 30)
        before_kill = len(receiver.received)
        receiver.delay = 0
        async with _served(database_url, key_file, tmp_path, token) as (_, http):
            await receiver.wait_for(lambda: _distinct(receiver) >= 60)
            events = (await http.get(events_url(client_id), params={"limit": 1000})).json()

    assert before_kill < 60
    delivered = _first_arrivals(receiver.delivered())
    assert delivered == _first_arrivals(events["events"])
    assert sum(map(len, delivered.values())) == 60

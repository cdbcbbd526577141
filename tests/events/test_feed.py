"""The feed: pages in commit order, opaque cursors, long polls, retention."""

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.auth import credentials
from customer_registry.ops import housekeeping
from tests.conftest import create_credential, new_client_id, token_for
from tests.events.conftest import events_url, read_all, read_feed
from tests.horizon.conftest import customer_url, person


async def _write(http: httpx.AsyncClient, client_id: int, count: int, tag: str = "a") -> None:
    for n in range(count):
        response = await http.put(customer_url(client_id, f"{tag}{n}"), json=person())
        assert response.status_code == 200


async def test_pages_follow_each_other_through_next(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await _write(horizon, client_id, 5)

    first = await read_feed(horizon, client_id, limit=2)
    second = await read_feed(horizon, client_id, first["next"], limit=2)
    third = await read_feed(horizon, client_id, second["next"], limit=2)
    empty = await read_feed(horizon, client_id, third["next"])
    await _write(horizon, client_id, 1, "b")
    later = await read_feed(horizon, client_id, third["next"])

    pages = [first, second, third]
    numbers = [e["customerNumber"] for page in pages for e in page["events"]]
    assert numbers == ["a0", "a1", "a2", "a3", "a4"]
    assert empty == {"events": [], "next": third["next"]}
    assert [e["customerNumber"] for e in later["events"]] == ["b0"]


async def test_an_empty_feed_gives_a_cursor_for_what_comes(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    start = await read_feed(horizon, client_id)
    await _write(horizon, client_id, 2)

    page = await read_feed(horizon, client_id, start["next"])

    assert start["events"] == []
    assert len(page["events"]) == 2


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"wait": "31"},
        {"after": "not a cursor"},
        {"after": "MTox"},  # another client's cursor ("1:1")
    ],
)
async def test_bad_parameters_are_refused(
    horizon: httpx.AsyncClient, client_id: int, query: dict[str, str]
) -> None:
    response = await horizon.get(events_url(client_id), params=query)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_feed_is_the_clients_own(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    other = new_client_id()
    token = await token_for(horizon, await create_credential(app, other))

    url = events_url(client_id)
    unauthenticated = await horizon.get(url, headers={"Authorization": ""})
    forbidden = await horizon.get(url, headers={"Authorization": f"Bearer {token}"})

    assert unauthenticated.status_code == 401
    assert forbidden.status_code == 403


async def test_a_cursor_older_than_the_retention_is_gone(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    start = await read_feed(horizon, client_id)
    await _write(horizon, client_id, 3)
    seen, last = await read_all(horizon, client_id)

    purged = await housekeeping.purge_events(app.state.runtime.database, timedelta(0))
    gone = await horizon.get(events_url(client_id), params={"after": start["next"]})
    current = await read_feed(horizon, client_id, last)
    fresh = await read_feed(horizon, client_id)

    assert len(seen) == 3
    assert purged >= 3
    assert gone.status_code == 410
    assert gone.json()["type"] == "/problems/cursor-expired"
    assert "purged" in gone.json()["message"]
    assert current == {"events": [], "next": last}
    assert fresh == {"events": [], "next": last}


async def test_the_purge_keeps_what_is_younger_than_the_retention(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await _write(horizon, client_id, 3)

    await housekeeping.purge_events(app.state.runtime.database, timedelta(days=30))
    events, _ = await read_all(horizon, client_id)

    assert len(events) == 3


async def test_a_long_poll_answers_as_soon_as_an_event_commits(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    start = await read_feed(horizon, client_id)
    waiting = asyncio.ensure_future(read_feed(horizon, client_id, start["next"], wait=20))
    await asyncio.sleep(0.5)
    assert not waiting.done()

    await _write(horizon, client_id, 1)
    committed = time.monotonic()
    page = await waiting
    seen_after = time.monotonic() - committed

    assert [e["customerNumber"] for e in page["events"]] == ["a0"]
    assert seen_after < 0.5  # 0.05 s between looks; the rest is a loaded machine's noise


async def test_a_long_poll_without_events_answers_empty_when_its_wait_ends(
    horizon: httpx.AsyncClient, client_id: int, credential: credentials.IssuedCredential
) -> None:
    started = time.monotonic()

    page = await read_feed(horizon, client_id, wait=0.3)

    assert page["events"] == []
    assert 0.3 <= time.monotonic() - started < 5

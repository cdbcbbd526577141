import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.config import Settings
from customer_registry.events import delivery
from tests.conftest import ALLOWED_HOSTS, UNTHROTTLED_ADDRESS

# Retries in tenths of seconds instead of hours: the schedule's shape, not its scale.
FAST_RETRIES = {
    "webhook_allow_private": True,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
}


def webhook_settings(database_url: str, key_file: Path, **overrides: Any) -> Settings:
    """The tests' settings, with webhooks to 127.0.0.1 retried in tenths of seconds."""
    return Settings(
        database_url=database_url,
        key_file=key_file,
        db_pool_size=4,
        token_failures_per_address=UNTHROTTLED_ADDRESS,
        allowed_hosts=ALLOWED_HOSTS,
        **FAST_RETRIES | overrides,
    )


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    return webhook_settings(database_url, key_file)


def events_url(client_id: int) -> str:
    return f"/registry/v1/clients/{client_id}/events"


def webhooks_url(client_id: int) -> str:
    return f"/registry/v1/clients/{client_id}/webhooks"


async def read_feed(
    http: httpx.AsyncClient, client_id: int, after: str | None = None, **params: Any
) -> dict[str, Any]:
    query = {**params, **({"after": after} if after is not None else {})}
    response = await http.get(events_url(client_id), params=query)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def read_all(
    http: httpx.AsyncClient, client_id: int, after: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Every event after ``after``, page by page; and the last ``next``."""
    found: list[dict[str, Any]] = []
    while True:
        page = await read_feed(http, client_id, after, limit=1000)
        found += page["events"]
        after = page["next"]
        if not page["events"]:
            return found, after


async def add_webhook(http: httpx.AsyncClient, client_id: int, url: str, **body: Any) -> str:
    """A new endpoint's secret."""
    response = await http.post(webhooks_url(client_id), json={"url": url, **body})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def deliver_until(app: FastAPI, done: Callable[[], bool], timeout: float = 60) -> None:
    """Run delivery rounds (as ``serve`` does in the background) until ``done()``."""
    state = app.state.runtime
    deadline = time.monotonic() + timeout
    async with delivery.deliverer(state.database, state.vault, state.settings) as context:
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("delivery did not finish in time")
            if not await delivery.deliver_due(context):
                await asyncio.sleep(0.02)


async def drain(app: FastAPI) -> None:
    """Run delivery rounds until nothing is due."""
    state = app.state.runtime
    async with delivery.deliverer(state.database, state.vault, state.settings) as context:
        while await delivery.deliver_due(context):
            pass

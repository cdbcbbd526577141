"""Concurrent writers of one customer, through a real multi-worker server.

``CONCURRENCY_REQUESTS`` sets the requests per writer (default 20; the issue's acceptance run
uses 1000: ``CONCURRENCY_REQUESTS=1000 scripts/test -- tests/test_concurrency.py``).
"""

import asyncio
import logging
import os
from collections import Counter
from typing import Any

import httpx
import pytest

from customer_registry.auth import credentials
from tests.conftest import token_for
from tests.horizon.conftest import person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

pytestmark = pytest.mark.slow  # a real multi-worker server

logger = logging.getLogger(__name__)
WRITERS = 32
REQUESTS = int(os.environ.get("CONCURRENCY_REQUESTS", "20"))
NUMBER = "c1631704458"


def _bodies(writer: int, i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    # Three variants: most writes change something, some repeat the stored state.
    variant = (writer + i) % 3
    return (
        person(email=f"v{variant}@mail.com"),
        seed_post(email=f"v{variant}@example.com"),
    )


async def _writer(http: httpx.AsyncClient, client_id: int, writer: int) -> list[httpx.Response]:
    responses = []
    for i in range(REQUESTS):
        horizon, subscriptions = _bodies(writer, i)
        if (writer + i) % 2:
            url = f"/customer/v1/clients/{client_id}/customers/{NUMBER}"
            responses.append(await http.put(url, json=horizon))
        else:
            responses.append(await http.post(CUSTOMERS, json=subscriptions))
    return responses


async def test_concurrent_writers_of_one_customer_leave_one_consistent_row(
    server: str, client: httpx.AsyncClient, credential: credentials.IssuedCredential, client_id: int
) -> None:
    headers = {
        "Authorization": f"Bearer {await token_for(client, credential)}",
        "X-Subscription-Key": credential.subscription_key,
    }
    limits = httpx.Limits(max_connections=WRITERS, keepalive_expiry=1)
    async with httpx.AsyncClient(
        base_url=server, headers=headers, limits=limits, timeout=60
    ) as http:
        batches = await asyncio.gather(*(_writer(http, client_id, w) for w in range(WRITERS)))
        history = await http.get(f"/registry/v1/clients/{client_id}/customers/{NUMBER}/history")
        final = await http.get(f"/customer/v1/clients/{client_id}/customers/{NUMBER}")

    responses = [r for batch in batches for r in batch]
    statuses = Counter(r.status_code for r in responses)
    versions = [entry["version"] for entry in history.json()["items"]]
    logger.info("%d writes: %s; %d versions", len(responses), dict(statuses), len(versions))
    assert statuses == {200: WRITERS * REQUESTS}
    horizon = [r.json() for r in responses if "paymentMeans" in r.json()]
    subscriptions = [r.json() for r in responses if "signUpId" in r.json()]
    assert len({h["paymentMeans"]["paymentId"] for h in horizon}) == 1
    assert len({(s["signUpId"], s["customerNumber"]) for s in subscriptions}) == 1
    assert versions == list(range(1, len(versions) + 1))
    assert final.headers["ETag"] == f'"{len(versions)}"'

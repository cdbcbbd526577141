"""Concurrent writers of one customer, through a real multi-worker server.

``CONCURRENCY_REQUESTS`` sets the requests per writer (default 20; the issue's acceptance run
uses 1000: ``CONCURRENCY_REQUESTS=1000 scripts/test -- tests/test_concurrency.py``).
"""

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from customer_registry import auth
from tests.conftest import token_for
from tests.horizon.conftest import person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

logger = logging.getLogger(__name__)
WRITERS = 32
REQUESTS = int(os.environ.get("CONCURRENCY_REQUESTS", "20"))
NUMBER = "c1631704458"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str, key_file: Path, tmp_path: Path) -> Iterator[str]:
    """``customer-registry serve --workers 2`` on the test database."""
    port = _free_port()
    env = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
        "CUSTOMER_REGISTRY_DB_POOL_SIZE": "8",
    }
    command = [sys.executable, "-m", "customer_registry", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


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
    server: str, client: httpx.AsyncClient, credential: auth.IssuedCredential, client_id: int
) -> None:
    headers = {
        "Authorization": f"Bearer {await token_for(client, credential)}",
        "X-Subscription-Key": credential.subscription_key,
    }
    limits = httpx.Limits(max_connections=WRITERS)
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

"""A server killed with SIGKILL in the middle of a write load loses no acknowledged write."""

import asyncio
import logging
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from customer_registry.auth import credentials
from tests.conftest import start_server, token_for
from tests.horizon.conftest import customer_url, person

pytestmark = pytest.mark.slow  # server processes killed under load

logger = logging.getLogger(__name__)
WRITERS = 16
LOAD_SECONDS = 2.0


async def _write_until_refused(
    http: httpx.AsyncClient, client_id: int, writer: int, acknowledged: dict[str, str]
) -> None:
    deadline = time.monotonic() + 30  # bounded even if the kill never comes
    i = 0
    while time.monotonic() < deadline:
        number, email = f"w{writer}-{i}", f"w{writer}.{i}@mail.com"
        try:
            response = await http.put(customer_url(client_id, number), json=person(email=email))
        except httpx.TransportError:
            return  # the server is gone
        if response.status_code == 200:
            acknowledged[number] = email
        i += 1


async def test_every_acknowledged_write_survives_a_sigkill(
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    client_id: int,
    database_url: str,
    key_file: Path,
    tmp_path: Path,
) -> None:
    process, base = await asyncio.to_thread(start_server, database_url, key_file, tmp_path)
    headers = {"Authorization": f"Bearer {await token_for(client, credential)}"}
    acknowledged: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        writers = [_write_until_refused(http, client_id, w, acknowledged) for w in range(WRITERS)]
        load = asyncio.gather(*writers)
        await asyncio.sleep(LOAD_SECONDS)
        os.killpg(process.pid, signal.SIGKILL)
        await load
    process.wait(timeout=20)

    process, base = await asyncio.to_thread(start_server, database_url, key_file, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            stored = await asyncio.gather(
                *(http.get(customer_url(client_id, number)) for number in acknowledged)
            )
    finally:
        process.terminate()
        process.wait(timeout=20)

    logger.info("%d writes acknowledged before SIGKILL", len(acknowledged))
    assert len(acknowledged) > 0
    assert [r.status_code for r in stored] == [200] * len(acknowledged)
    assert [r.json()["email"] for r in stored] == list(acknowledged.values())

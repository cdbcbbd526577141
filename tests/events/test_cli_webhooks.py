"""``webhooks add | list | remove | replay``, ``deliver --once`` and ``keys rotate`` on the
events' sealed values."""

import asyncio
import json
import os
import signal
import sys
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from standardwebhooks import Webhook
from typer.testing import CliRunner, Result

from customer_registry.cli import app as cli
from customer_registry.db import customer_events, webhook_endpoints
from customer_registry.events import schemas
from tests.events.conftest import FAST_RETRIES, read_all, read_feed
from tests.events.receiver import Receiver
from tests.horizon.conftest import customer_url, person


def _env(env: dict[str, str]) -> dict[str, str]:
    settings = {f"CUSTOMER_REGISTRY_{name.upper()}": str(v) for name, v in FAST_RETRIES.items()}
    return {**env, **settings}


async def _run(env: dict[str, str], *args: str) -> Result:
    # The CLI runs its own event loop, so it cannot run on the test's.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=_env(env))


async def _add(env: dict[str, str], client_id: int, url: str, *options: str) -> dict[str, Any]:
    args = ["webhooks", "add", url, "--client-id", str(client_id), "--json", *options]
    result = await _run(env, *args)
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


async def test_an_endpoint_added_by_the_cli_is_delivered_to_by_deliver_once(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    async with Receiver() as receiver:
        added = await _add(env, client_id, receiver.url, "--event-type", "customer.created")
        await horizon.put(customer_url(client_id, "c1"), json=person())
        delivered = await _run(env, "deliver", "--once")

    assert delivered.exit_code == 0, delivered.output
    assert added["secret"].startswith("whsec_")
    assert added["eventTypes"] == ["customer.created"]
    (request,) = receiver.received
    assert Webhook(added["secret"]).verify(request.body, request.headers)["version"] == 1


async def test_endpoints_are_listed_without_secrets_and_removed(
    env: dict[str, str], client_id: int
) -> None:
    added = await _add(env, client_id, "http://127.0.0.1:9/hook")

    listed = await _run(env, "webhooks", "list", "--client-id", str(client_id), "--json")
    table = await _run(env, "webhooks", "list", "--client-id", str(client_id))
    removed = await _run(env, "webhooks", "remove", added["id"])
    again = await _run(env, "webhooks", "remove", added["id"])

    (shown,) = json.loads(listed.stdout)
    assert shown["id"] == added["id"]
    assert shown["clientId"] == client_id
    assert "secret" not in shown
    assert added["secret"] not in listed.stdout + table.stdout
    assert added["id"] in table.stdout
    assert removed.exit_code == 0
    assert again.exit_code == 1
    assert "no webhook endpoint" in again.output


async def test_a_refused_url_exits_with_2(env: dict[str, str], client_id: int) -> None:
    strict = {**env, "CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE": "false"}
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["webhooks", "add", "https://127.0.0.1/hook", "--client-id", str(client_id)],
        env=strict,
    )

    assert result.exit_code == 2
    assert "private" in result.output


async def test_replay_sends_the_events_after_a_cursor_again(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    async with Receiver() as receiver:
        added = await _add(env, client_id, receiver.url)
        for n in range(3):
            await horizon.put(customer_url(client_id, f"c{n}"), json=person())
        await _run(env, "deliver", "--once")
        first = await read_feed(horizon, client_id, limit=1)
        replayed = await _run(env, "webhooks", "replay", added["id"], "--from", first["next"])
        await _run(env, "deliver", "--once")
        bad = await _run(env, "webhooks", "replay", added["id"], "--from", "nonsense")
        ahead = schemas.cursor(client_id, 10**6)
        too_far = await _run(env, "webhooks", "replay", added["id"], "--from", ahead)

    assert replayed.exit_code == 0, replayed.output
    assert too_far.exit_code == 2
    assert "past the newest event" in too_far.output
    numbers = [event["customerNumber"] for event in receiver.delivered()]
    assert numbers == ["c0", "c1", "c2", "c1", "c2"]
    assert bad.exit_code == 2


async def test_key_rotation_reseals_the_events_and_the_webhook_secrets(
    env: dict[str, str], horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    company = person(type="Company", company={"name": "Acme", "organizationNumber": "998877665"})
    del company["person"]
    company["address"]["countryCode"] = "SE"
    assert (await horizon.put(customer_url(client_id, "co"), json=company)).status_code == 200
    added = await _add(env, client_id, "http://127.0.0.1:9/hook")

    rotated = await _run(env, "keys", "rotate")

    assert rotated.exit_code == 0, rotated.output
    current = json.loads(app.state.runtime.vault.path.read_text())["current"]
    async with app.state.runtime.database.reading() as conn:
        numbers = await conn.fetch(
            select(customer_events.c.organization_number).where(
                customer_events.c.client_id == client_id
            )
        )
        secret = await conn.fetchval(
            select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == added["id"])
        )
    assert [row[0].split(".")[0] for row in numbers] == [current]
    assert secret.startswith(f"{current}.")
    events, _ = await read_all(horizon, client_id)
    assert events[0]["customer"]["company"]["organizationNumber"] == "998877665"


async def test_deliver_runs_until_sigterm(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    async with Receiver() as receiver:
        await _add(env, client_id, receiver.url)
        deliverer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "customer_registry", "deliver",
            env={**os.environ, **_env(env)}, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await horizon.put(customer_url(client_id, "c1"), json=person())
            await receiver.wait_for(lambda: bool(receiver.delivered()), timeout=60)
        finally:
            deliverer.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(deliverer.communicate(), 30)

    assert deliverer.returncode == 0, stderr
    assert receiver.delivered()[0]["customerNumber"] == "c1"

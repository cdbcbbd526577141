"""Stored idempotent answers hold no personal data in clear, and are deleted after 24 hours."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select
from typer.testing import CliRunner

from customer_registry.auth import credentials
from customer_registry.cli import app as cli
from customer_registry.db import idempotency_keys, token_failures
from tests.conftest import running_server
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

_k = idempotency_keys.c


async def _stored(app: FastAPI, credential_id: str) -> dict[str, bytes | None]:
    query = select(_k.idempotency_key, _k.body).where(_k.credential_id == credential_id)
    async with app.state.runtime.database.reading() as conn:
        return {row[0]: row[1] for row in await conn.fetch(query)}


async def _expired_record(app: FastAPI, credential_id: str, key: str) -> None:
    async with app.state.runtime.database.transaction() as conn:
        await conn.execute(
            insert(idempotency_keys).values(
                credential_id=credential_id,
                idempotency_key=key,
                request_hash="an earlier request",
                status=200,
                headers="{}",
                body=b"old",
                expires_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )


async def test_stored_answers_hold_no_personal_data_in_clear_and_still_replay(
    both: httpx.AsyncClient, app: FastAPI, credential: credentials.IssuedCredential, client_id: int
) -> None:
    email = "only.in.this.answer@mail.com"
    horizon = {"Idempotency-Key": "h-1"}
    put = await both.put(customer_url(client_id, "c1"), json=person(email=email), headers=horizon)
    post = await both.post(CUSTOMERS, json=seed_post(email=email), headers={"X-Request-ID": "s-1"})

    stored = await _stored(app, credential.credential_id)
    replayed = await both.put(
        customer_url(client_id, "c1"), json=person(email=email), headers=horizon
    )

    assert set(stored) == {"h-1", "s-1"}
    assert all(body is not None and email.encode() not in body for body in stored.values())
    assert email in put.text
    assert post.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.content == put.content


async def test_the_purge_command_deletes_expired_records_and_keeps_the_others(
    both: httpx.AsyncClient,
    app: FastAPI,
    credential: credentials.IssuedCredential,
    client_id: int,
    env: dict[str, str],
) -> None:
    await _expired_record(app, credential.credential_id, "expired")
    await both.put(customer_url(client_id, "c1"), json=person(), headers={"Idempotency-Key": "k"})

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["idempotency", "purge"], env=env)

    assert result.exit_code == 0, result.output
    assert "expired idempotency records" in result.output
    assert set(await _stored(app, credential.credential_id)) == {"k"}


async def test_serve_purges_expired_records_in_the_background(
    app: FastAPI,
    credential: credentials.IssuedCredential,
    database_url: str,
    key_file: Path,
    tmp_path: Path,
) -> None:
    await _expired_record(app, credential.credential_id, "expired")
    async with app.state.runtime.database.transaction() as conn:
        ended = datetime.now(UTC) - timedelta(seconds=1)
        values = {"subject": f"ended-{credential.credential_id}", "window_ends_at": ended}
        await conn.execute(insert(token_failures).values(failures=3, **values))
    counts = select(token_failures.c.subject).where(token_failures.c.subject == values["subject"])

    with running_server(database_url, key_file, tmp_path, workers=1):
        deadline = time.monotonic() + 30
        while await _stored(app, credential.credential_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        async with app.state.runtime.database.reading() as conn:
            remaining_counts = await conn.fetch(counts)

    assert await _stored(app, credential.credential_id) == {}
    assert remaining_counts == []

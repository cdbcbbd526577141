"""Keys and secrets fail safe: a wrong key file refuses to run, the signing secret is sealed
and rotates, rotation of a credential takes effect at once, blind indexes are per client."""

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from customer_registry import migrations
from customer_registry.app import create_app
from customer_registry.auth import credentials, signing
from customer_registry.config import Settings
from customer_registry.db import customers, signing_keys
from customer_registry.vault import Vault
from tests.conftest import BASE_URL, create_credential, new_client_id, running_server, token_for
from tests.horizon.conftest import customer_url, person


def _cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "customer_registry", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def recorded(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test database, with the session key file's keys recorded in it."""
    assert _cli(env, "migrate", cwd=tmp_path).returncode == 0
    return env


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["serve", "--port", "1"],
        ["export", "--client-id", "1"],
        ["import", "--client-id", "1", "rows.jsonl"],
        ["keys", "rotate"],
        ["keys", "rotate-signing"],
        ["history", "--client-id", "1", "--customer-number", "c1"],
    ],
)
@pytest.mark.parametrize("key_file_state", ["missing", "different"])
def test_a_key_file_that_does_not_fit_the_database_refuses_to_run(
    recorded: dict[str, str], tmp_path: Path, command: list[str], key_file_state: str
) -> None:
    wrong = tmp_path / "other.key"
    if key_file_state == "different":
        Vault.open(wrong)
    (tmp_path / "rows.jsonl").write_text("")

    result = _cli({**recorded, "CUSTOMER_REGISTRY_KEY_FILE": str(wrong)}, *command, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert str(wrong) in result.stderr
    assert "keys index, k1" in result.stderr
    assert "Traceback" not in result.stderr
    assert wrong.exists() == (key_file_state == "different")


def test_a_key_file_is_created_for_a_database_without_sealed_data_only(
    empty_database: str, tmp_path: Path
) -> None:
    env = {"CUSTOMER_REGISTRY_DATABASE_URL": empty_database}
    first = tmp_path / "first.key"

    created = _cli({**env, "CUSTOMER_REGISTRY_KEY_FILE": str(first)}, "migrate", cwd=tmp_path)
    refused = _cli(
        {**env, "CUSTOMER_REGISTRY_KEY_FILE": str(tmp_path / "second.key")}, "migrate", cwd=tmp_path
    )

    assert created.returncode == 0, created.stderr
    assert first.exists()
    assert refused.returncode == 2
    assert not (tmp_path / "second.key").exists()


@pytest.fixture
async def own_app(empty_database: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """A started app on a database of its own, with a key file of its own."""
    await asyncio.to_thread(migrations.upgrade, empty_database, key_file=tmp_path / "own.key")
    app = create_app(Settings(database_url=empty_database, key_file=tmp_path / "own.key"))
    async with app.router.lifespan_context(app):
        yield app


async def test_readyz_is_503_once_the_key_file_no_longer_fits(
    own_app: FastAPI, tmp_path: Path
) -> None:
    transport = httpx.ASGITransport(app=own_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        before = await http.get("/readyz")
        replaced = Vault.open(tmp_path / "replacement.key")
        os.replace(replaced.path, tmp_path / "own.key")
        after = await http.get("/readyz")

    assert before.status_code == 200
    assert after.status_code == 503
    assert after.json()["failed"] == "keys"
    assert "holds a different key under index, k1" in after.json()["detail"]


async def test_the_stored_signing_secret_cannot_sign_tokens(
    app: FastAPI,
    horizon: httpx.AsyncClient,
    client_id: int,
    credential: credentials.IssuedCredential,
) -> None:
    async with app.state.runtime.database.reading() as conn:
        rows = await conn.fetch(select(signing_keys.c.kid, signing_keys.c.secret))
    now = int(time.time())
    claims = {"sub": credential.credential_id, "aud": app.state.runtime.settings.token_audience,
              "iat": now, "exp": now + 600, "gen": 0}  # fmt: skip
    forged = [
        jwt.encode(claims, row["secret"], algorithm="HS256", headers={"kid": row["kid"]})
        for row in rows
    ]

    answers = [
        await horizon.get(customer_url(client_id, "c1"), headers={"Authorization": f"Bearer {t}"})
        for t in forged
    ]

    assert forged
    assert {answer.status_code for answer in answers} == {401}


def _token_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_a_retired_signing_key_stops_verifying_within_seconds(
    database_url: str, key_file: Path, env: dict[str, str], tmp_path: Path
) -> None:
    client_id = new_client_id()
    issued = json.loads(
        _cli(
            env, "credentials", "create", "--client-id", str(client_id), "--json", cwd=tmp_path
        ).stdout
    )
    form = {"grant_type": "client_credentials", "client_id": issued["oauthClientId"],
            "client_secret": issued["oauthClientSecret"]}  # fmt: skip
    url = customer_url(client_id, "c1")
    with running_server(database_url, key_file, tmp_path) as base:
        old = httpx.post(f"{base}/oauth/token", data=form).json()["access_token"]
        rotated = _cli(env, "keys", "rotate-signing", cwd=tmp_path)
        new = httpx.post(f"{base}/oauth/token", data=form).json()["access_token"]
        kept = _cli(env, "keys", "rotate-signing", "--retire", cwd=tmp_path)
        old_still = httpx.get(f"{base}{url}", headers={"Authorization": f"Bearer {old}"})
        retired = _cli(env, "keys", "rotate-signing", "--retire", "--force", cwd=tmp_path)
        deadline, answers = time.monotonic() + 15, set[int]()
        while time.monotonic() < deadline and answers != {401}:
            # Each request may reach either worker: both must have let go of the key.
            answers = {
                httpx.get(f"{base}{url}", headers={"Authorization": f"Bearer {old}"}).status_code
                for _ in range(8)
            }
            time.sleep(0.2)
        new_answer = httpx.get(f"{base}{url}", headers={"Authorization": f"Bearer {new}"})

    assert rotated.returncode == 0, rotated.stderr
    assert _token_kid(new) != _token_kid(old)
    assert "No signing key to retire" in kept.stderr
    assert old_still.status_code == 404
    assert retired.returncode == 0
    assert _token_kid(old) in retired.stderr
    assert answers == {401}
    assert new_answer.status_code == 404


async def test_a_token_issued_in_the_same_second_as_a_rotation_is_refused(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    issued = await create_credential(app, client_id)
    token = await token_for(client, issued)
    async with app.state.runtime.database.transaction() as conn:
        await credentials.rotate_credential(conn, issued.oauth_client_id)

    response = await client.get(
        customer_url(client_id, "c1"), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert "rotated" in response.json()["message"]


def _jwt_with_header(header: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part(header)}.{part({'sub': 'x'})}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "token",
    [
        _jwt_with_header({"alg": "HS256", "kid": "a\u0000b"}),
        _jwt_with_header({"alg": "HS256", "kid": "\ud800"}),
        _jwt_with_header({"alg": "HS256", "kid": ["k1"]}),
        _jwt_with_header({"alg": "HS256", "kid": "k" * 10_000}),
        "a" * 9000,
    ],
    ids=["nul", "lone-surrogate", "list", "long-kid", "over-8-kb"],
)
async def test_odd_tokens_are_401_not_500(
    client: httpx.AsyncClient, client_id: int, token: str
) -> None:
    response = await client.get(
        customer_url(client_id, "c1"), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_verified_tokens_are_kept_within_their_byte_budget() -> None:
    kept = signing.VerifiedTokens(max_bytes=1000)
    for number in range(20):
        kept.add(f"{number:03d}" + "x" * 97, "kid", {"n": number})

    assert kept.get("019" + "x" * 97) == ("kid", {"n": 19})
    assert kept.get("000" + "x" * 97) is None
    assert sum(kept.get(f"{n:03d}" + "x" * 97) is not None for n in range(20)) == 10


async def test_one_national_id_has_unrelated_blind_indexes_in_two_clients(
    app: FastAPI, horizon: httpx.AsyncClient, client_id: int
) -> None:
    other = new_client_id()
    issued = await create_credential(app, other)
    other_token = await token_for(horizon, issued)
    body = person()
    body["ssn"] = "19121212-1212"
    await horizon.put(customer_url(client_id, "same"), json=body)
    await horizon.put(
        customer_url(other, "same"), json=body, headers={"Authorization": f"Bearer {other_token}"}
    )
    async with app.state.runtime.database.reading() as conn:
        indexes = [
            await conn.fetchval(
                select(customers.c.ssn_index).where(
                    customers.c.client_id == owner, customers.c.customer_number == "same"
                )
            )
            for owner in (client_id, other)
        ]

    assert None not in indexes
    assert indexes[0] != indexes[1]

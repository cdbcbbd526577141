"""The operator CLI, through Typer's runner and as a real process."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from customer_registry.cli import app
from tests.conftest import new_client_id

runner = CliRunner()


@pytest.fixture
def env(database_url: str, key_file: Path) -> dict[str, str]:
    return {
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
    }


async def test_created_credential_gets_a_token(
    env: dict[str, str], client: httpx.AsyncClient
) -> None:
    client_ids = [new_client_id(), new_client_id()]
    args = ["credentials", "create", "--name", "shop", "--json"]
    for client_id in client_ids:
        args += ["--client-id", str(client_id)]
    # The CLI runs its own event loop, so it cannot run on this test's.
    result = await asyncio.to_thread(runner.invoke, app, args, env=env)

    assert result.exit_code == 0, result.output
    issued = json.loads(result.stdout)
    assert set(issued) == {"oauthClientId", "oauthClientSecret", "subscriptionKey", "clientIds"}
    assert issued["clientIds"] == sorted(client_ids)
    form = {
        "grant_type": "client_credentials",
        "client_id": issued["oauthClientId"],
        "client_secret": issued["oauthClientSecret"],
    }
    assert (await client.post("/oauth/token", data=form)).status_code == 200


def test_credentials_are_stored_hashed(env: dict[str, str], database_url: str) -> None:
    result = runner.invoke(app, ["credentials", "create", "--client-id", "7", "--json"], env=env)
    issued = json.loads(result.stdout)

    if database_url.startswith("sqlite"):
        stored = Path(database_url.split("///", 1)[1]).read_bytes()
        assert issued["oauthClientSecret"].encode() not in stored
        assert issued["subscriptionKey"].encode() not in stored


def test_revoking_an_unknown_credential_fails_with_exit_code_1(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["credentials", "revoke", "cr_nobody"], env=env)

    assert result.exit_code == 1
    assert "no active credential" in result.output


@pytest.mark.parametrize("bad", ["0", "abc", str(2**64)])
def test_invalid_client_id_is_a_usage_error(env: dict[str, str], bad: str) -> None:
    result = runner.invoke(app, ["credentials", "create", "--client-id", bad], env=env)

    assert result.exit_code == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_on_a_fresh_directory_creates_the_database_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "customer_registry", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 30 s")
        assert response.status_code == 200
        assert (tmp_path / "customer-registry.db").exists()
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "credentials create" in output


def test_unsupported_database_url_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", "migrate"],
        env={**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": "mysql://root@localhost/x"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 2
    assert "unsupported database 'mysql'" in result.stderr
    assert "Traceback" not in result.stderr

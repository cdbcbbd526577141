"""The operator CLI, through Typer's runner and as a real process."""

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from customer_registry import migrations
from customer_registry.cli import app
from tests.conftest import new_client_id
from tests.horizon.conftest import customer_url, person

runner = CliRunner()
CONSOLE = ("--log-format", "console")


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


@pytest.mark.slow
def test_serve_on_a_fresh_directory_creates_the_database_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "customer_registry", "serve", "--port", str(port), *CONSOLE],
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
    assert f"credentials create --client-id 1234 --server-url http://127.0.0.1:{port}" in output


@pytest.mark.slow
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


def _create(env: dict[str, str], client_id: int) -> dict[str, str]:
    args = ["credentials", "create", "--client-id", str(client_id), "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_credentials_list_shows_clients_but_never_secrets(env: dict[str, str]) -> None:
    client_id = new_client_id()
    issued = _create(env, client_id)

    result = runner.invoke(app, ["credentials", "list"], env={**env, "COLUMNS": "250"})

    assert result.exit_code == 0
    assert issued["oauthClientId"] in result.output
    assert str(client_id) in result.output
    assert issued["oauthClientSecret"] not in result.output
    assert issued["subscriptionKey"] not in result.output


@pytest.mark.slow
async def test_rotation_replaces_secret_key_and_tokens_at_once(
    env: dict[str, str], client: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    issued = await asyncio.to_thread(_create, env, client_id)

    async def token(secret: str) -> httpx.Response:
        form = {"client_id": issued["oauthClientId"], "client_secret": secret}
        return await client.post("/oauth/token", data={"grant_type": "client_credentials", **form})

    async def status(headers: dict[str, str], url: str) -> int:
        return (await client.get(url, headers=headers)).status_code

    old_token = (await token(issued["oauthClientSecret"])).json()["access_token"]
    await asyncio.sleep(1.1)  # tokens carry whole seconds
    args = ["credentials", "rotate", issued["oauthClientId"], "--json"]
    rotated = json.loads((await asyncio.to_thread(runner.invoke, app, args, env=env)).stdout)

    new_token = (await token(rotated["oauthClientSecret"])).json()["access_token"]
    horizon_url = f"/customer/v1/clients/{client_id}/customers/c1"
    assert (await token(issued["oauthClientSecret"])).status_code == 401
    assert await status({"Authorization": f"Bearer {old_token}"}, horizon_url) == 401
    assert await status({"Authorization": f"Bearer {new_token}"}, horizon_url) == 404
    old_key = {"X-Subscription-Key": issued["subscriptionKey"]}
    new_key = {"X-Subscription-Key": rotated["subscriptionKey"]}
    assert await status(old_key, "/subscriptions/v1/customers/c1") == 401
    assert await status(new_key, "/subscriptions/v1/customers/c1") == 404
    assert rotated["clientIds"] == [client_id]


def test_clients_list_counts_customers(env: dict[str, str]) -> None:
    client_id = new_client_id()
    _create(env, client_id)

    result = runner.invoke(app, ["clients", "list"], env={**env, "COLUMNS": "250"})

    assert result.exit_code == 0
    assert re.search(rf"^{client_id}\s+0$", result.stdout, re.MULTILINE)


async def test_history_prints_changes_with_personal_data_masked(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person())
    await horizon.put(customer_url(client_id, "c1"), json=person(email="new@mail.com"))
    args = ["history", "--client-id", str(client_id), "--customer-number", "c1"]

    result = await asyncio.to_thread(runner.invoke, app, args, env={**env, "COLUMNS": "250"})

    assert result.exit_code == 0, result.output
    assert "new@mail.com" in result.output
    assert "*********07" in result.output
    assert "02016126007" not in result.output


def test_history_of_an_unknown_customer_exits_1(env: dict[str, str]) -> None:
    args = ["history", "--client-id", "5", "--customer-number", "nobody"]
    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 1


def test_migrate_sql_of_an_up_to_date_database_is_empty(env: dict[str, str]) -> None:
    sql = runner.invoke(app, ["migrate", "--sql"], env=env)
    current = runner.invoke(app, ["migrate", "current"], env=env)

    assert (sql.exit_code, current.exit_code) == (0, 0)
    assert sql.stdout == ""


def test_migrate_sql_prints_only_the_pending_migrations(
    empty_database: str, key_file: Path
) -> None:
    migrations.upgrade(empty_database, "0005", key_file=key_file)
    env = {
        "CUSTOMER_REGISTRY_DATABASE_URL": empty_database,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
    }

    sql = runner.invoke(app, ["migrate", "--sql"], env=env)

    assert sql.exit_code == 0, sql.output
    assert "CREATE TABLE token_failures" in sql.stdout
    assert "CREATE TABLE customers" not in sql.stdout
    assert "0004" not in sql.stdout


def test_migrate_sql_from_scratch_prints_every_migration(
    env: dict[str, str], database_url: str
) -> None:
    sql = runner.invoke(app, ["migrate", "--sql", "--from-scratch"], env=env)

    if database_url.startswith("sqlite"):
        # SQLite alters tables by copying them, which needs the live database.
        assert sql.exit_code == 1
        return
    assert sql.exit_code == 0
    assert "CREATE TABLE customers" in sql.stdout
    assert "CREATE TABLE token_failures" in sql.stdout


@pytest.mark.slow
def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", "credentials", "list"],
        env={
            **os.environ,
            "CUSTOMER_REGISTRY_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        },
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 1
    assert "cannot use the database" in result.stderr
    assert "Traceback" not in result.stderr


def _serve(tmp_path: Path, *args: str, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")}
    return subprocess.Popen(
        [sys.executable, "-m", "customer_registry", "serve", "--port", str(_free_port()), *args],
        cwd=tmp_path,
        env={**env, **settings},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["missing", "a directory", "not UTF-8"])
def test_serve_refuses_a_person_directory_it_cannot_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "people.jsonl"
    if kind == "a directory":
        path.mkdir()
    elif kind == "not UTF-8":
        path.write_bytes('{"person": {"firstName": "Søren"}}\n'.encode("latin-1"))

    server = _serve(tmp_path, CUSTOMER_REGISTRY_PERSON_DIRECTORY=str(path))
    output = server.communicate(timeout=60)[0]

    assert server.returncode == 2
    assert f"CUSTOMER_REGISTRY_PERSON_DIRECTORY {path}" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_serve_on_every_interface_prints_an_address_whose_host_is_allowed(
    tmp_path: Path,
) -> None:
    server = _serve(
        tmp_path, "--host", "0.0.0.0", "--log-format", "console",
        CUSTOMER_REGISTRY_ALLOWED_HOSTS="localhost",
    )  # fmt: skip
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline()]
        while "credentials create" not in lines[-1] and len(lines) < 100:
            lines.append(server.stdout.readline())
    finally:
        server.terminate()
        server.communicate(timeout=10)

    assert "API docs:   http://localhost:" in "".join(lines)
    assert "0.0.0.0" not in "".join(lines)
    assert "warning" not in "".join(lines)

"""List commands: whole values on stdout however narrow the terminal, and JSON with --json."""

import asyncio
import json

import httpx
from typer.testing import CliRunner

from customer_registry.auth.credentials import IssuedCredential
from customer_registry.cli import app
from tests.conftest import new_client_id
from tests.horizon.conftest import customer_url, person

runner = CliRunner()
NARROW = {"COLUMNS": "30"}


def _create(env: dict[str, str], client_id: int) -> dict[str, str]:
    args = ["credentials", "create", "--client-id", str(client_id), "--name", "web shop", "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_credentials_list_prints_whole_ids_on_a_narrow_terminal(env: dict[str, str]) -> None:
    issued = _create(env, new_client_id())

    result = runner.invoke(app, ["credentials", "list"], env={**env, **NARROW})

    assert result.exit_code == 0
    [line] = [line for line in result.stdout.splitlines() if issued["oauthClientId"] in line]
    assert "web shop" in line
    assert "…" not in result.stdout


def test_credentials_list_as_json(env: dict[str, str]) -> None:
    client_id = new_client_id()
    issued = _create(env, client_id)

    result = runner.invoke(app, ["credentials", "list", "--json"], env=env)

    listed = {c["oauthClientId"]: c for c in json.loads(result.stdout)}
    shown = listed[issued["oauthClientId"]]
    assert shown["clientIds"] == [client_id]
    assert shown["name"] == "web shop"
    assert shown["createdAt"].endswith("+00:00")
    assert shown["revokedAt"] is None


def test_clients_list_as_json(env: dict[str, str]) -> None:
    client_id = new_client_id()
    _create(env, client_id)

    result = runner.invoke(app, ["clients", "list", "--json"], env=env)

    assert {"clientId": client_id, "customers": 0} in json.loads(result.stdout)


async def test_history_as_json_names_fields_and_credentials_as_the_api_does(
    env: dict[str, str],
    horizon: httpx.AsyncClient,
    client_id: int,
    credential: IssuedCredential,
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person())
    await horizon.put(customer_url(client_id, "c1"), json=person(email="new@mail.com"))
    args = ["history", "--client-id", str(client_id), "--customer-number", "c1", "--json"]

    result = await asyncio.to_thread(runner.invoke, app, args, env=env)

    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)["items"]
    assert set(second) == {
        "version", "changedAt", "dialect", "oauthClientId", "requestId", "changes"
    }  # fmt: skip
    assert second["oauthClientId"] == credential.oauth_client_id
    assert second["changedAt"].endswith("+00:00")
    assert second["changes"] == [
        {"field": "email", "old": "tom.customer@mail.com", "new": "new@mail.com"}
    ]
    assert {"field": "customerNumber", "old": None, "new": "c1"} in first["changes"]


async def test_history_table_shows_whole_credential_ids(
    env: dict[str, str],
    horizon: httpx.AsyncClient,
    client_id: int,
    credential: IssuedCredential,
) -> None:
    await horizon.put(customer_url(client_id, "c1"), json=person())
    args = ["history", "--client-id", str(client_id), "--customer-number", "c1"]

    result = await asyncio.to_thread(runner.invoke, app, args, env={**env, **NARROW})

    assert result.exit_code == 0, result.output
    assert credential.oauth_client_id in result.stdout
    assert "+00:00" in result.stdout

"""``customer-registry operators``: create, list, remove, reset-password."""

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from customer_registry.cli import app as cli
from tests.console.conftest import new_name, sign_in

runner = CliRunner()


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["operators", *args], env=env)
    return result.exit_code, result.stdout


async def test_create_prints_a_one_time_password_that_signs_in(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str], client_id: int
) -> None:
    name = new_name()
    code, out = await asyncio.to_thread(
        _run, env, "create", "--name", name, "--client-id", str(client_id)
    )

    assert code == 0
    password = out.strip()
    assert len(password) == 20
    response = await sign_in(client, name, password)
    assert response.headers["location"] == "/console/clients"


async def test_list_shows_clients_never_passwords(env: dict[str, str]) -> None:
    name = new_name()
    code, password = await asyncio.to_thread(
        _run, env, "create", "--name", name, "--client-id", "7", "--client-id", "5"
    )
    code, out = await asyncio.to_thread(_run, env, "list", "--json")

    listed = next(item for item in json.loads(out) if item["name"] == name)
    assert code == 0
    assert listed["clientIds"] == [5, 7]
    assert listed["oneTimePassword"] is True
    assert password.strip() not in out


@pytest.mark.parametrize(
    "args",
    [(), ("--client-id", "5", "--all-clients"), ("--all-clients", "--name", " padded ")],
)
async def test_create_wants_clients_or_all_and_a_plain_name(
    env: dict[str, str], args: tuple[str, ...]
) -> None:
    code, _ = await asyncio.to_thread(_run, env, "create", "--name", new_name(), *args)

    assert code == 2


async def test_a_taken_name_is_refused(env: dict[str, str]) -> None:
    name = new_name()
    await asyncio.to_thread(_run, env, "create", "--name", name, "--all-clients")

    code, _ = await asyncio.to_thread(_run, env, "create", "--name", name, "--all-clients")

    assert code == 1


async def test_remove_and_reset_end_sessions(
    app: FastAPI, client: httpx.AsyncClient, env: dict[str, str]
) -> None:
    name = new_name()
    _, first = await asyncio.to_thread(_run, env, "create", "--name", name, "--all-clients")
    await sign_in(client, name, first.strip())

    code, second = await asyncio.to_thread(_run, env, "reset-password", name)
    after_reset = await client.get("/console/password")
    refused_old = await sign_in(client, name, first.strip())
    removed, _ = await asyncio.to_thread(_run, env, "remove", name)
    refused_new = await sign_in(client, name, second.strip())
    gone, _ = await asyncio.to_thread(_run, env, "remove", name)

    assert code == 0
    assert after_reset.status_code == 303
    assert refused_old.status_code == 401
    assert removed == 0
    assert refused_new.status_code == 401
    assert gone == 1

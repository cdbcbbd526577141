"""Test harness: the real app over ASGI, on a real SQLite file or the real PostgreSQL.

``TEST_DATABASE_URL`` picks the database. Unset: a fresh SQLite file per run. A PostgreSQL
URL names the server: each run creates its own database there and drops it afterwards, so
parallel runs never see each other. Tests isolate themselves further by using a fresh
client id each.
"""

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from customer_registry import migrations
from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings

DATA = Path(__file__).parent / "data"
BASE_URL = "https://registry.test"
# The test apps answer, as a deployment under names of its own, for the reserved .test
# names their clients use (BASE_URL's and others); any other Host would be a 400.
ALLOWED_HOSTS = ("*.test",)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


async def admin(url: str, sql: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username,
        password=parsed.password, database=parsed.database,
    )  # fmt: skip
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One key file for the session: every app of the run shares the database."""
    return tmp_path_factory.mktemp("keys") / "test.key"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Iterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url or server_url.startswith("sqlite"):
        url = server_url or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        migrations.upgrade(url, key_file=key_file)
        yield url
        return
    name = f"cr_test_{secrets.token_hex(6)}"
    asyncio.run(admin(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url, key_file=key_file)
        yield url
    finally:
        asyncio.run(admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the kind under test that no migration has touched."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"cr_empty_{secrets.token_hex(6)}"
    asyncio.run(admin(database_url, f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(database_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def env(database_url: str, key_file: Path) -> dict[str, str]:
    """The environment a ``customer-registry`` command needs to reach the test database."""
    return {
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
    }


# Every test's requests come from 127.0.0.1, so the failed token requests of the whole run
# (the contract test makes many) count against that one address; test_token_throttle.py
# tests the address limit from addresses of its own.
UNTHROTTLED_ADDRESS = 1_000_000


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    # As deployed under a name of its own: the test client's host must be allowed.
    return Settings(
        database_url=database_url,
        key_file=key_file,
        db_pool_size=2,
        token_failures_per_address=UNTHROTTLED_ADDRESS,
        allowed_hosts=ALLOWED_HOSTS,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.runtime.database.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


def new_client_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


@pytest.fixture
def client_id() -> int:
    return new_client_id()


async def create_credential(app: FastAPI, *client_ids: int) -> credentials.IssuedCredential:
    async with app.state.runtime.database.transaction() as conn:
        return await credentials.create_credential(conn, client_ids, "test")


async def token_for(http: httpx.AsyncClient, issued: credentials.IssuedCredential) -> str:
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.oauth_client_id,
            "client_secret": issued.oauth_client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
async def credential(app: FastAPI, client_id: int) -> credentials.IssuedCredential:
    return await create_credential(app, client_id)


@pytest.fixture
async def horizon(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> httpx.AsyncClient:
    """The test client, authorised for ``client_id`` with a bearer token."""
    client.headers["Authorization"] = f"Bearer {await token_for(client, credential)}"
    return client


@pytest.fixture
async def both(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> httpx.AsyncClient:
    """The test client with a bearer token and the subscription key of ``client_id``."""
    client.headers["Authorization"] = f"Bearer {await token_for(client, credential)}"
    client.headers["X-Subscription-Key"] = credential.subscription_key
    return client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the server at {base} did not become healthy")


def start_server(
    database_url: str, key_file: Path, workdir: Path, *, workers: int = 2, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``customer-registry serve --workers N`` on the test database; wait until healthy.

    It runs in a session of its own, so a test can kill the master and its workers at once.
    ``env`` adds settings; the server's log goes to ``workdir/server.log``.
    """
    port = _free_port()
    environment = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": database_url,
        "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
        "CUSTOMER_REGISTRY_DB_POOL_SIZE": "8",
        "CUSTOMER_REGISTRY_TOKEN_FAILURES_PER_ADDRESS": str(UNTHROTTLED_ADDRESS),
        **env,
    }
    command = [sys.executable, "-m", "customer_registry", "serve", "--port", str(port)]
    with (workdir / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=environment,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    _wait_until_healthy(base, process)
    return process, base


@contextmanager
def running_server(
    database_url: str, key_file: Path, workdir: Path, *, workers: int = 2, **env: str
) -> Iterator[str]:
    """A started server for the duration of the block; yields its base URL."""
    process, base = start_server(database_url, key_file, workdir, workers=workers, **env)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def server(database_url: str, key_file: Path, tmp_path: Path) -> Iterator[str]:
    """A real multi-worker server on the test database."""
    with running_server(database_url, key_file, tmp_path) as base:
        yield base

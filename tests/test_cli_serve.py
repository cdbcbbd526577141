"""``serve`` as operators run it: its log stream, its workers, a database that is not there."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from customer_registry import migrations
from customer_registry.auth import credentials
from customer_registry.config import Settings
from customer_registry.db import open_database
from tests.conftest import admin, running_server

pytestmark = pytest.mark.slow  # serve as a process


def _log(workdir: Path) -> list[dict[str, Any]]:
    """The server's log, every line of which must be a JSON object."""
    return [json.loads(line) for line in (workdir / "server.log").read_text().splitlines()]


def _events(workdir: Path, event: str) -> list[dict[str, Any]]:
    return [line for line in _log(workdir) if line["event"] == event]


def test_the_json_log_stream_is_json_only_and_tells_start_ready_and_shutdown(
    database_url: str, key_file: Path, tmp_path: Path
) -> None:
    with running_server(database_url, key_file, tmp_path, workers=2) as base:
        httpx.get(f"{base}/healthz")

    [starting] = _events(tmp_path, "starting")
    assert starting["url"] == base
    assert starting["workers"] == 2
    assert starting["database"] == make_url(database_url).render_as_string(hide_password=True)
    assert len(_events(tmp_path, "ready")) == 2
    assert len(_events(tmp_path, "shutdown")) == 2


def test_a_replaced_worker_is_logged(database_url: str, key_file: Path, tmp_path: Path) -> None:
    with running_server(database_url, key_file, tmp_path, workers=2):
        victim = _events(tmp_path, "ready")[0]["pid"]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not _events(tmp_path, "worker replaced") and time.monotonic() < deadline:
            time.sleep(0.2)
        [replaced] = _events(tmp_path, "worker replaced")

    assert replaced["level"] == "warning"
    assert replaced["pid"] == victim
    assert replaced["new_pid"] != victim


@pytest.fixture
def own_database(empty_database: str, key_file: Path) -> str:
    """A migrated database of the kind under test that this test may break."""
    migrations.upgrade(empty_database, key_file=key_file)
    return empty_database


async def _token(base: str, database_url: str, key_file: Path) -> str:
    database = open_database(Settings(database_url=database_url, key_file=key_file))
    try:
        async with database.transaction() as conn:
            issued = await credentials.create_credential(conn, [5], "test")
    finally:
        await database.close()
    async with httpx.AsyncClient() as http:
        form = {"grant_type": "client_credentials", "client_id": issued.oauth_client_id}
        form["client_secret"] = issued.oauth_client_secret
        return str((await http.post(f"{base}/oauth/token", data=form)).json()["access_token"])


async def _rename_customers(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(database_url.split("///", 1)[1]) as db:
            db.execute("ALTER TABLE customers RENAME TO customers_gone")
        return
    await admin(database_url, "ALTER TABLE customers RENAME TO customers_gone")


async def test_an_unhandled_error_is_logged_once_at_error_with_its_request_id(
    own_database: str, key_file: Path, tmp_path: Path
) -> None:
    with running_server(own_database, key_file, tmp_path, workers=1) as base:
        token = await _token(base, own_database, key_file)
        await _rename_customers(own_database)  # every statement on customers now fails
        async with httpx.AsyncClient() as http:
            response = await http.get(
                f"{base}/customer/v1/clients/5/customers/c1",
                headers={"Authorization": f"Bearer {token}"},
            )

    errors = [line for line in _log(tmp_path) if line["level"] == "error"]
    assert response.status_code == 500
    [error] = errors
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert error["exc_type"]
    assert "Traceback" in error["exception"]


def test_serve_waits_for_an_unreachable_database_then_gives_up(tmp_path: Path) -> None:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")},
        "CUSTOMER_REGISTRY_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "CUSTOMER_REGISTRY_DB_WAIT_SECONDS": "2",
    }
    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", "serve", "--log-format", "json"],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    *lines, last = result.stderr.splitlines()
    attempts = [json.loads(line) for line in lines if "database unreachable" in line]
    assert result.returncode == 1
    assert len(attempts) >= 2
    assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert attempts[-1]["level"] == "error"
    assert "cannot use the database" in last


class _LateDatabase:
    """A TCP port that refuses connections until ``open()``, then forwards them to the
    database: a database server that is still starting."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.listener = socket.socket()
        self.connections: list[socket.socket] = []

    def open(self) -> None:
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        for sock in [self.listener, *self.connections]:
            sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_serve_starts_once_a_late_database_accepts_connections(
    database_url: str, key_file: Path, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite file is never unreachable")
    real = make_url(database_url)
    late = _LateDatabase((real.host or "127.0.0.1", real.port or 5432))
    url = real.set(port=late.port).render_as_string(hide_password=False)
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "customer_registry", "serve", "--log-format", "json"],
            env={**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url,
                 "CUSTOMER_REGISTRY_KEY_FILE": str(key_file),
                 "CUSTOMER_REGISTRY_DB_WAIT_SECONDS": "120"},
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _events(tmp_path, "database unreachable") and time.monotonic() < deadline:
            time.sleep(0.2)
        late.open()
        while not _events(tmp_path, "ready") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=20)
        late.close()

    assert _events(tmp_path, "database unreachable")[0]["level"] == "warning"
    assert _events(tmp_path, "ready")

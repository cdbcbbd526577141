"""Request ids, access log lines, metrics and readiness, as operators and clients see them."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from customer_registry.app import create_app
from customer_registry.config import Settings
from tests.conftest import BASE_URL
from tests.horizon.conftest import customer_url, person, put

CUSTOMER_ROUTE = "/customer/v1/clients/{clientId}/customers/{customerNumber}"
SEED_PERSONAL_DATA = (
    "Tom",
    "Customer",
    "02016126007",
    "tom.customer@mail.com",
    "+4712345678",
    "customer-person-1",
)


@pytest.fixture(autouse=True)
def quiet_test_client(caplog: pytest.LogCaptureFixture) -> None:
    """The test's own httpx client logs each request it makes, path included; the service
    under test does not use httpx, so its lines are not the service's output."""
    caplog.set_level(logging.WARNING, logger="httpx")


@pytest.fixture
def log_level() -> str:
    return "info"


@pytest.fixture
def log_format() -> str:
    return "json"


@pytest.fixture
def settings(settings: Settings, log_level: str, log_format: str) -> Settings:
    return settings.model_copy(update={"log_level": log_level, "log_format": log_format})


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Everything logged since the last call, one JSON object a line (so every line parses)."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def access_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [line for line in log_lines(capsys) if line["event"] == "request"]


async def metric(http: httpx.AsyncClient, name: str, **labels: str) -> float:
    scrape = await http.get("/metrics")
    assert scrape.status_code == 200
    for family in text_string_to_metric_families(scrape.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


AppFor = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def app_for(tmp_path: Path) -> AsyncIterator[AppFor]:
    """Builds apps on other databases and disposes of their engines afterwards."""
    apps: list[FastAPI] = []

    def build(database_url: str) -> httpx.AsyncClient:
        app = create_app(Settings(database_url=database_url, key_file=tmp_path / "test.key"))
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)

    yield build
    for app in apps:
        await app.state.runtime.database.close()


async def test_request_id_from_the_client_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "order-4711/retry 2"})

    assert response.headers["X-Request-ID"] == "order-4711/retry 2"


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["X-Request-ID"]
    second = (await client.get("/healthz")).headers["X-Request-ID"]

    assert len(first) == 32
    assert int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize("given", ["x" * 129, "tab\there", "caf\u00e9"])
async def test_unusable_request_id_is_replaced(client: httpx.AsyncClient, given: str) -> None:
    response = await client.get("/healthz", headers=[(b"X-Request-ID", given.encode())])

    assert len(response.headers["X-Request-ID"]) == 32
    assert response.headers["X-Request-ID"] != given


async def test_error_responses_carry_the_request_id(client: httpx.AsyncClient) -> None:
    unauthorised = await client.get(customer_url(1, "c1"), headers={"X-Request-ID": "r-401"})
    unknown = await client.get("/no/such/path", headers={"X-Request-ID": "r-404"})

    assert unauthorised.status_code == 401
    assert unauthorised.headers["X-Request-ID"] == "r-401"
    assert unknown.status_code == 404
    assert unknown.headers["X-Request-ID"] == "r-404"


async def test_one_access_line_per_request_with_the_route_template(
    capsys: pytest.CaptureFixture[str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    capsys.readouterr()
    response = await horizon.get(customer_url(client_id, "c-unknown"))

    [line] = access_lines(capsys)
    assert line["route"] == CUSTOMER_ROUTE
    assert line["method"] == "GET"
    assert line["status"] == response.status_code == 404
    assert line["client_id"] == client_id
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["level"] == "info"
    assert line["duration_ms"] >= 0
    assert "c-unknown" not in json.dumps(line)


async def test_probes_and_scrapes_are_not_logged_at_info(
    capsys: pytest.CaptureFixture[str], client: httpx.AsyncClient
) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200

    assert log_lines(capsys) == []


@pytest.mark.parametrize("log_level", ["debug"])
async def test_writing_a_customer_logs_no_personal_data(
    capsys: pytest.CaptureFixture[str], horizon: httpx.AsyncClient, client_id: int
) -> None:
    capsys.readouterr()
    written = await put(horizon, client_id, "customer-person-1", person())
    read = await horizon.get(customer_url(client_id, "customer-person-1"))

    output = capsys.readouterr().err
    assert (written.status_code, read.status_code) == (200, 200)
    assert [json.loads(line)["event"] for line in output.splitlines()] == ["request"] * 2
    leaked = [value for value in SEED_PERSONAL_DATA if value in output]
    assert leaked == []


async def test_unhandled_error_logs_type_and_traceback_but_no_values(
    capsys: pytest.CaptureFixture[str], app: FastAPI
) -> None:
    async def fail() -> None:
        ssn = "02016126007"
        raise RuntimeError(f"cannot store {ssn}")

    app.add_api_route("/fail", fail)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        capsys.readouterr()
        response = await http.get("/fail")

    output = capsys.readouterr().err
    [error] = [json.loads(line) for line in output.splitlines() if "exception" in line]
    assert response.status_code == 500
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert error["exc_type"] == "RuntimeError"
    assert ", in fail\n" in error["exception"]
    assert "02016126007" not in output


@pytest.mark.parametrize("log_format", ["console"])
async def test_console_format_is_one_readable_line_per_request(
    capsys: pytest.CaptureFixture[str], client: httpx.AsyncClient
) -> None:
    capsys.readouterr()
    await client.get(customer_url(1, "c1"))

    [line] = capsys.readouterr().err.splitlines()
    assert not line.startswith("{")
    assert f"route={CUSTOMER_ROUTE}" in line
    assert "status=401" in line


async def test_metrics_count_a_request(client: httpx.AsyncClient) -> None:
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    before = await metric(client, "http_requests_total", **labels)
    await client.get("/healthz")

    assert await metric(client, "http_requests_total", **labels) == before + 1


async def test_metrics_with_a_token_configured_answer_only_its_bearer(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    token = "scrape-" + "s" * 24
    app.state.runtime.settings = app.state.runtime.settings.model_copy(
        update={"metrics_token": SecretStr(token)}
    )

    anonymous = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    for refused in (anonymous, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "http_requests_total" not in refused.text
    assert right.status_code == 200
    assert "http_requests_total" in right.text


async def test_metrics_count_customer_writes_not_reads(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    before = await metric(horizon, "customers_written_total", dialect="horizon")
    await put(horizon, client_id, "c1", person())
    await horizon.get(customer_url(client_id, "c1"))

    assert await metric(horizon, "customers_written_total", dialect="horizon") == before + 1


async def test_metrics_show_no_database_connection_in_use_between_requests(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await put(horizon, client_id, "c1", person())

    assert await metric(horizon, "db_pool_connections_checked_out") == 0


async def test_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_not_ready_on_an_empty_database(app_for: AppFor, tmp_path: Path) -> None:
    async with app_for(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}") as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == "migrations"
    assert "revision none" in response.json()["detail"]


async def test_not_ready_when_the_database_does_not_answer(app_for: AppFor) -> None:
    # Port 1 refuses at once. (A SQLite file that cannot be opened would do too, but aiosqlite
    # then leaves a thread behind that fails after the event loop has closed.)
    async with app_for("postgresql+asyncpg://nobody@127.0.0.1:1/none") as http:
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == "database"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("the server was not ready within 90 s")


def test_metrics_of_several_workers_add_up_and_leave_no_files(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    scratch = tmp_path / "tmp"  # the server's temporary directory
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "customer_registry", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env={**env, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_ready(base)
        for _ in range(10):  # a new connection each, so both workers answer some
            httpx.get(f"{base}/healthz")
        scrape = httpx.get(f"{base}/metrics").text
    finally:
        server.terminate()
        server.wait(timeout=20)

    assert 'http_requests_total{method="GET",route="/healthz",status="200"} 10.0' in scrape
    assert list(scratch.iterdir()) == []

"""Failed token requests are counted per client id and per address, and then refused for a while."""

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings
from tests.conftest import BASE_URL, create_credential, new_client_id

Caller = Callable[[str], AsyncIterator[httpx.AsyncClient]]


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def _address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"


@pytest.fixture
async def throttled(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with 3 failures allowed per client id and per address in a 60 s window."""
    limits = {
        "token_failures_per_client": 3,
        "token_failures_per_address": 3,
        "token_failure_window_seconds": 60,
    }
    app = create_app(settings.model_copy(update=limits))
    yield app
    await app.state.runtime.database.close()


@asynccontextmanager
async def _from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def _fail(http: httpx.AsyncClient, client_id: str, times: int) -> None:
    for _ in range(times):
        response = await http.post("/oauth/token", data=_form(client_id, "wrong"))
        assert response.status_code == 401


async def test_after_the_failures_for_a_client_id_even_its_right_secret_is_429(
    throttled: FastAPI,
) -> None:
    issued = await create_credential(throttled, new_client_id())
    async with _from(throttled, _address()) as first, _from(throttled, _address()) as second:
        await _fail(first, issued.oauth_client_id, 2)
        await _fail(second, issued.oauth_client_id, 1)
        refused = await first.post(
            "/oauth/token", data=_form(issued.oauth_client_id, issued.oauth_client_secret)
        )

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.json()["error"] == "too_many_requests"


async def test_after_the_failures_from_an_address_every_client_id_there_is_429(
    throttled: FastAPI,
) -> None:
    issued = await create_credential(throttled, new_client_id())
    right = _form(issued.oauth_client_id, issued.oauth_client_secret)
    address = _address()
    async with _from(throttled, address) as attacker, _from(throttled, _address()) as other:
        for _ in range(3):
            await _fail(attacker, f"guess-{secrets.token_hex(4)}", 1)
        refused = await attacker.post("/oauth/token", data=right)
        elsewhere = await other.post("/oauth/token", data=right)

    assert refused.status_code == 429
    assert elsewhere.status_code == 200


async def test_failures_below_the_limit_refuse_nothing(throttled: FastAPI) -> None:
    issued = await create_credential(throttled, new_client_id())
    async with _from(throttled, _address()) as http:
        await _fail(http, issued.oauth_client_id, 2)
        response = await http.post(
            "/oauth/token", data=_form(issued.oauth_client_id, issued.oauth_client_secret)
        )

    assert response.status_code == 200


async def test_when_the_window_ends_the_client_may_try_again(settings: Settings) -> None:
    limits = {"token_failures_per_client": 1, "token_failure_window_seconds": 1}
    app = create_app(settings.model_copy(update=limits))
    issued = await create_credential(app, new_client_id())
    right = _form(issued.oauth_client_id, issued.oauth_client_secret)
    async with _from(app, _address()) as http:
        await _fail(http, issued.oauth_client_id, 1)
        during = await http.post("/oauth/token", data=right)
        await asyncio.sleep(1.1)
        after = await http.post("/oauth/token", data=right)
    await app.state.runtime.database.close()

    assert during.status_code == 429
    assert after.status_code == 200


async def test_the_counts_are_shared_by_every_process_on_the_database(
    throttled: FastAPI, settings: Settings
) -> None:
    replica = create_app(throttled.state.runtime.settings)
    issued = await create_credential(throttled, new_client_id())
    address = _address()
    async with _from(throttled, address) as one, _from(replica, address) as other:
        await _fail(one, issued.oauth_client_id, 3)
        refused = await other.post(
            "/oauth/token", data=_form(issued.oauth_client_id, issued.oauth_client_secret)
        )
    await replica.state.runtime.database.close()

    assert refused.status_code == 429


async def test_each_failure_is_logged_with_the_client_id_and_never_the_secret(
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = f"not-the-secret-{secrets.token_hex(8)}"
    await client.post("/oauth/token", data=_form(credential.oauth_client_id, secret))

    logged = capsys.readouterr().err
    failures = [line for line in logged.splitlines() if "token request refused" in line]
    assert len(failures) == 1
    assert credential.oauth_client_id in failures[0]
    assert secret not in logged


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{client_id}:{secret}".encode(errors="surrogatepass")
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


# A form is percent-encoded UTF-8: it can carry a NUL, never a lone surrogate.
_HOSTILE = [
    (way, bad)
    for way in ("form", "json", "basic")
    for bad in ("a\x00b", "\ud800", "x\udfffy")
    if way != "form" or bad == "a\x00b"
]


@pytest.mark.parametrize(("way", "bad"), _HOSTILE)
@pytest.mark.parametrize("field", ["client_id", "client_secret"])
async def test_nul_or_lone_surrogates_in_credentials_are_a_4xx_oauth_error(
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    way: str,
    bad: str,
    field: str,
) -> None:
    fields = {**_form(credential.oauth_client_id, credential.oauth_client_secret), field: bad}
    if way == "basic":
        grant = {"grant_type": "client_credentials"}
        basic = _basic(fields["client_id"], fields["client_secret"])
        response = await client.post("/oauth/token", data=grant, headers=basic)
    elif way == "json":
        json_body = json.dumps(fields).encode()  # "\\ud800": JSON's way to write one
        headers = {"Content-Type": "application/json"}
        response = await client.post("/oauth/token", content=json_body, headers=headers)
    else:
        response = await client.post("/oauth/token", data=fields)

    assert response.status_code in (400, 401), response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] in ("invalid_request", "invalid_client")

"""Signing in and out: one-time passwords, throttling, expiry, CSRF, cookie flags."""

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from customer_registry.db import operator_sessions
from tests.console.conftest import (
    PASSWORD,
    create_operator,
    hidden,
    new_name,
    sign_in,
    signed_in,
    text_of,
)


async def test_a_page_without_a_session_sends_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/clients/5?q=ann")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=%2Fclients%2F5%3Fq%3Dann"


async def test_one_time_password_signs_in_once_to_choose_a_password(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    name = new_name()
    one_time = await create_operator(app, name, [client_id])

    first = await sign_in(client, name, one_time)
    asked = await client.get("/console/clients")
    page = await client.get("/console/password")
    form = {"password": PASSWORD, "repeated": PASSWORD, "csrf": hidden(page.text, "csrf")}
    chosen = await client.post("/console/password", data=form)
    client.cookies.clear()
    again = await sign_in(client, name, one_time)
    own = await sign_in(client, name, PASSWORD)

    assert first.status_code == 303
    assert asked.headers["location"] == "/console/password"
    assert chosen.headers["location"] == "/console/clients"
    assert again.status_code == 401
    assert own.status_code == 303


async def test_a_short_or_mistyped_new_password_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    name = new_name()
    await sign_in(client, name, await create_operator(app, name, None))
    page = await client.get("/console/password")
    csrf = hidden(page.text, "csrf")

    short = await client.post(
        "/console/password", data={"password": "short", "repeated": "short", "csrf": csrf}
    )
    mistyped = await client.post(
        "/console/password", data={"password": PASSWORD, "repeated": PASSWORD + "!", "csrf": csrf}
    )

    assert short.status_code == 400
    assert "at least 12 characters" in text_of(short.text)
    assert mistyped.status_code == 400
    assert "The two passwords differ" in text_of(mistyped.text)


async def test_a_wrong_password_is_refused(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    name = await signed_in(app, client, [client_id])
    client.cookies.clear()

    response = await sign_in(client, name, "wrong password!")

    assert response.status_code == 401
    assert "Wrong name or password." in text_of(response.text)
    assert "cr_console=" not in response.headers.get("set-cookie", "")


async def test_an_unknown_name_is_refused_alike(client: httpx.AsyncClient) -> None:
    response = await sign_in(client, new_name(), PASSWORD)

    assert response.status_code == 401
    assert "Wrong name or password." in text_of(response.text)


async def test_sign_in_is_throttled_after_repeated_failures(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    name = new_name()
    one_time = await create_operator(app, name, None)
    for _ in range(app.state.runtime.settings.console_sign_in_failures):
        assert (await sign_in(client, name, "wrong password!")).status_code == 401

    response = await sign_in(client, name, one_time)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in text_of(response.text)


async def test_an_expired_session_is_refused(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    await signed_in(app, client, [client_id])
    async with app.state.runtime.database.transaction() as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await conn.execute(sa.update(operator_sessions).values(expires_at=past))

    response = await client.get(f"/console/clients/{client_id}")
    page = await client.get(response.headers["location"])

    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?")
    assert "ended=1" in response.headers["location"]
    assert "Your session has expired or ended" in text_of(page.text)


async def test_a_sign_in_form_without_its_cookie_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    name = new_name()
    one_time = await create_operator(app, name, None)
    page = await client.get("/console/sign-in")
    client.cookies.clear()

    form = {"name": name, "password": one_time, "csrf": hidden(page.text, "csrf")}
    response = await client.post("/console/sign-in", data=form)

    assert response.status_code == 403
    assert "Form refused" in text_of(response.text)


async def test_the_session_cookie_is_http_only_strict_and_expiring(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    name = new_name()
    response = await sign_in(client, name, await create_operator(app, name, None))

    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cr_console="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/console", "secure"} <= flags
    assert f"max-age={app.state.runtime.settings.console_session_seconds}" in flags


async def test_sign_out_ends_the_session(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    await signed_in(app, client, [client_id])
    page = await client.get("/console/clients")
    token = client.cookies["cr_console"]

    response = await client.post("/console/sign-out", data={"csrf": hidden(page.text, "csrf")})
    client.cookies.set("cr_console", token, path="/console")
    after = await client.get("/console/clients")

    assert response.headers["location"] == "/console/sign-in"
    assert after.status_code == 303

"""The console driven over ASGI: operators made as the CLI makes them, signed in through the
sign-in form, forms sent with the tokens their pages carry."""

import re
import secrets
from collections.abc import Sequence
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.console import operators

PASSWORD = "correct horse battery staple"


def new_name() -> str:
    return f"op-{secrets.token_hex(4)}"


async def create_operator(app: FastAPI, name: str, client_ids: Sequence[int] | None = None) -> str:
    """A new operator; returns its one-time password."""
    async with app.state.runtime.database.transaction() as conn:
        created = await operators.create_operator(conn, name, client_ids)
    assert created is not None
    return created[1]


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} in the page"
    return unescape(found.group(1))


async def sign_in(http: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    page = await http.get("/console/sign-in")
    form = {"name": name, "password": password, "csrf": hidden(page.text, "csrf")}
    return await http.post("/console/sign-in", data=form)


async def signed_in(app: FastAPI, http: httpx.AsyncClient, client_ids: Sequence[int] | None) -> str:
    """Sign a new operator in, its own password chosen; returns its name."""
    name = new_name()
    one_time = await create_operator(app, name, client_ids)
    assert (await sign_in(http, name, one_time)).headers["location"] == "/console/clients"
    page = await http.get("/console/password")
    form = {"password": PASSWORD, "repeated": PASSWORD, "csrf": hidden(page.text, "csrf")}
    assert (await http.post("/console/password", data=form)).status_code == 303
    return name


@pytest.fixture
async def operator(app: FastAPI, client: httpx.AsyncClient, client_id: int) -> str:
    """``client`` signed in as an operator of ``client_id``."""
    return await signed_in(app, client, [client_id])


def text_of(page: str) -> str:
    """The page's words, without tags."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())

"""Horizon GET, HEAD and PUT of a customer as a plain route (see ``plain_routes``)."""

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customer_registry.auth import callers
from customer_registry.auth.authenticated_first import bearer_first
from customer_registry.customers import service
from customer_registry.customers.access import Caller
from customer_registry.customers.access_repository import get_token_caller
from customer_registry.db import Store
from customer_registry.horizon import schemas
from customer_registry.horizon.router import (
    CUSTOMER_PATH,
    SEARCH_PATH,
    VALID_NUMBER,
    read,
    search_page,
    write,
)
from customer_registry.http.canonical_paths import client_id as canonical_client_id
from customer_registry.http.canonical_paths import utf8_path
from customer_registry.http.plain_routes import claimed, plain_route, valid_body
from customer_registry.http.public_origin import trusted_host
from customer_registry.runtime import runtime


def _valid_path(request: Request) -> tuple[int, str] | None:
    """The client id and customer number; None if either fails validation or the answer
    could not name its host."""
    params = request.path_params
    client_id = canonical_client_id(params["clientId"])
    if client_id is None or not utf8_path(request.scope) or not trusted_host(request):
        return None
    try:
        return client_id, VALID_NUMBER.validate_python(params["customerNumber"])
    except ValidationError:
        return None


def _valid_search(request: Request) -> tuple[int, schemas.SearchParams] | None:
    """The client id and the query's paging; None if either fails validation, a query
    parameter is repeated or the answer could not name its host."""
    query = request.query_params
    if len(query) != len(query.multi_items()):
        return None
    client_id = canonical_client_id(request.path_params["clientId"])
    if client_id is None or not trusted_host(request):
        return None
    try:
        return client_id, schemas.SearchParams.model_validate(dict(query))
    except ValidationError:
        return None


async def _read(request: Request) -> Response | None:
    path = _valid_path(request)
    authorization = request.headers.get("authorization")
    if path is None or not authorization:
        return None
    client_id, number = path
    database = runtime(request).database
    async with database.reading() as conn:
        claim = await callers.bearer_claim(request, conn, authorization, client_id)
        store = Store(conn, runtime(request).vault)
        stored = await service.read_as(store, claim, number, schemas.SHOWN_SEALED)
    return read(request, stored, client_id, number)


async def _put(request: Request) -> Response | None:
    path = _valid_path(request)
    if path is None or claimed(request):
        return None
    client_id, number = path
    claim = await bearer_first(request, client_id)
    body = await valid_body(request, schemas.CustomerIn)
    if body is None:
        return None
    database = runtime(request).database
    async with database.transaction() as conn:
        store = runtime(request).store(conn)
        locked = await service.lock_as(store, claim, number)
        caller = Caller(client_id, claim.credential_id, locked)
        return await write(request, store, caller, number, body)


async def _search(request: Request) -> Response | None:
    path = _valid_search(request)
    if path is None or claimed(request):
        return None
    client_id, params = path
    claim = await bearer_first(request, client_id)
    body = await valid_body(request, schemas.SearchIn)
    if body is None:
        return None
    database = runtime(request).database
    async with database.reading() as conn:
        await get_token_caller(conn, claim)
        store = Store(conn, runtime(request).vault)
        return await search_page(request, store, client_id, params, body)


def plain_routes(routes: list[APIRoute]) -> list[Route]:
    answers = {"GET": _read, "HEAD": _read, "PUT": _put}
    return [
        plain_route(CUSTOMER_PATH, answers, routes),
        plain_route(SEARCH_PATH, {"POST": _search}, routes),
    ]

"""Subscriptions GET and POST of a customer as plain routes (see ``plain_routes``)."""

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customer_registry.auth.authenticated_first import key_first
from customer_registry.customers import service
from customer_registry.db import Store
from customer_registry.http.canonical_paths import utf8_path
from customer_registry.http.plain_routes import claimed, plain_route, valid_body
from customer_registry.runtime import runtime
from customer_registry.subscriptions import schemas
from customer_registry.subscriptions.router import (
    CUSTOMER_PATH,
    CUSTOMERS_PATH,
    VALID_NUMBER,
    create,
    read,
)

_KEY = "x-subscription-key"
# Either one is claimed as an idempotency key by the FastAPI route's guard.
_IDEMPOTENCY_HEADERS = ("idempotency-key", "x-request-id")


async def _get(request: Request) -> Response | None:
    given = request.path_params["customerNumber"]
    key = request.headers.get(_KEY)
    try:
        number = VALID_NUMBER.validate_python(given)
    except ValidationError:
        return None
    if not key or not utf8_path(request.scope):
        return None
    database = runtime(request).database
    async with database.reading() as conn:
        holder, stored = await service.read_by_key(Store(conn, runtime(request).vault), key, given)
    return read(request, stored, holder.client_id, number)


async def _post(request: Request) -> Response | None:
    if claimed(request, _IDEMPOTENCY_HEADERS):
        return None
    caller = await key_first(request)
    body = await valid_body(request, schemas.CustomerRequest)
    if body is None:
        return None
    database = runtime(request).database
    async with database.transaction() as conn:
        return await create(request, runtime(request).store(conn), caller, body)


def plain_routes(routes: list[APIRoute]) -> list[Route]:
    return [
        plain_route(CUSTOMER_PATH, {"GET": _get}, routes),
        plain_route(CUSTOMERS_PATH, {"POST": _post}, routes),
    ]

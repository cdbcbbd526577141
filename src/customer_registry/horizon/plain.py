"""Horizon GET and HEAD of a customer as a plain route (see ``plain_routes``)."""

from typing import Annotated

from fastapi.routing import APIRoute
from pydantic import Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customer_registry import auth
from customer_registry.conditional import not_modified, unchanged
from customer_registry.customers import service
from customer_registry.db import Database, Store
from customer_registry.horizon import schemas
from customer_registry.horizon.router import CUSTOMER_PATH, VALID_NUMBER, head_of, representation
from customer_registry.plain_routes import plain_read

_VALID_CLIENT = TypeAdapter(Annotated[int, Field(ge=1, le=auth.MAX_CLIENT_ID)])


def _valid_path(request: Request) -> tuple[int, str, str] | None:
    """The client id, the customer number as given and as validated; None if either fails."""
    params = request.path_params
    try:
        client_id = _VALID_CLIENT.validate_strings(params["clientId"])
        number = VALID_NUMBER.validate_python(params["customerNumber"])
    except ValidationError:
        return None
    return client_id, params["customerNumber"], number


async def _answer(request: Request) -> Response | None:
    path = _valid_path(request)
    authorization = request.headers.get("authorization")
    if path is None or not authorization:
        return None
    client_id, given, number = path
    database: Database = request.app.state.database
    async with database.reading() as conn:
        claim = await auth.bearer_claim(request, conn, authorization, client_id)
        store = Store(conn, request.app.state.vault)
        stored = await service.read_as(store, claim, given, schemas.SHOWN_SEALED)
    customer = service.found(stored, client_id, number)
    if request.method == "HEAD":
        return head_of(representation(request, customer))
    if not_modified(request.headers.get("if-none-match"), customer.version):
        return unchanged(customer.version)
    return representation(request, customer)


def plain_routes(routes: list[APIRoute]) -> list[Route]:
    return [plain_read(CUSTOMER_PATH, _answer, routes)]

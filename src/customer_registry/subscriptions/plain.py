"""Subscriptions GET of a customer as a plain route (see ``plain_routes``)."""

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customer_registry.conditional import not_modified, unchanged
from customer_registry.customers import service
from customer_registry.db import Database, Store
from customer_registry.plain_routes import plain_route
from customer_registry.subscriptions import schemas
from customer_registry.subscriptions.router import CUSTOMER_PATH, VALID_NUMBER, answer


async def _answer(request: Request) -> Response | None:
    given = request.path_params["customerNumber"]
    key = request.headers.get("x-subscription-key")
    try:
        number = VALID_NUMBER.validate_python(given)
    except ValidationError:
        return None
    if not key:
        return None
    database: Database = request.app.state.database
    async with database.reading() as conn:
        holder, stored = await service.read_by_key(Store(conn, request.app.state.vault), key, given)
    customer = service.found(stored, holder.client_id, number)
    if not_modified(request.headers.get("if-none-match"), customer.version):
        return unchanged(customer.version)
    return answer(schemas.from_customer(customer), customer.version)


def plain_routes(routes: list[APIRoute]) -> list[Route]:
    return [plain_route(CUSTOMER_PATH, {"GET": _answer}, routes)]

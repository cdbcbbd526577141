"""The operator console at /console: server-rendered pages to find a customer, read it as
both APIs show it, reveal its national ID on purpose, see who changed what, and follow a
client's change events to its webhook endpoints (and send them again)."""

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from customer_registry.console import customer_pages, event_pages, pages, router
from customer_registry.console.route import ConsoleRoute

_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_missing = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@_missing.api_route("/{rest:path}", methods=_ANY_METHOD)
async def missing_page(request: Request, rest: str) -> Response:
    message = "The console has no such page. Its pages start at the list of clients."
    return pages.problem(request, 404, "Page not found", message)


def install(app: FastAPI) -> None:
    """Add the console's routes to ``app`` (none appears in the OpenAPI document)."""
    for pages_router in (router.router, customer_pages.router, event_pages.router, _missing):
        app.include_router(pages_router)

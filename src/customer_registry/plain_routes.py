"""The hottest reads as plain Starlette routes, in front of their FastAPI twins.

FastAPI's dependency resolution cost more CPU per read than the read's own work (token or
key, one statement, decryption, representation). A plain route answers the reads that are
well formed with the same functions its FastAPI twin uses, and hands every other request to
that twin, which stays in the app for its OpenAPI entry and gives the documented errors for
bad paths and headers.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send


class FastJSONResponse(JSONResponse):
    """JSONResponse's bytes (UTF-8, compact, non-ASCII as is) from orjson: a tenth of the
    CPU of the standard library's encoder, which a page of 100 customers felt."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# The answer to a request, or None: the twin answers it.
Answer = Callable[[Request], Awaitable[Response | None]]
_READS = ("GET", "HEAD")


class PlainRead:
    """The ASGI endpoint; ``twins`` are the FastAPI routes of the same path, by method."""

    def __init__(self, answer: Answer, twins: dict[str, APIRoute]) -> None:
        self.answer = answer
        self.twins = twins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        twin = self.twins[scope["method"]]
        scope["route"] = twin  # FastAPI's router leaves it to the route; the access log reads it
        response = await self.answer(Request(scope, receive))
        if response is None:
            await twin.handle(scope, receive, send)
        else:
            await response(scope, receive, send)


def plain_read(path: str, answer: Answer, routes: list[APIRoute]) -> Route:
    """The plain route of ``path``'s reads; ``routes`` must hold its FastAPI twins."""
    twins = {
        method: route
        for route in routes
        if route.path == path
        for method in route.methods or ()
        if method in _READS
    }
    route = Route(path, PlainRead(answer, twins), methods=list(twins))
    route.methods = set(twins)  # Starlette adds HEAD to every GET; FastAPI does not
    return route

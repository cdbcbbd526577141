"""The hottest routes as plain Starlette routes, in front of their FastAPI twins.

FastAPI's dependency resolution cost more CPU per request than the request's own work (token
or key, one or two statements, decryption, representation). A plain route answers the
requests that are well formed with the same functions its FastAPI twin uses, and hands every
other request to that twin (with the body it may have read), which stays in the app for its
OpenAPI entry and gives the documented errors for bad paths, headers and bodies.
"""

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from customer_registry.errors import AppError
from customer_registry.http.json_body import require_json


class FastJSONResponse(JSONResponse):
    """JSONResponse's bytes (UTF-8, compact, non-ASCII as is) from orjson: a tenth of the
    CPU of the standard library's encoder, which a page of 100 customers felt."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


Model = TypeVar("Model", bound=BaseModel)


async def valid_body(request: Request, model: type[Model]) -> Model | None:
    """The body as FastAPI reads and validates it; None where it would refuse it."""
    try:
        await require_json(request)
        return model.model_validate(json.loads(await request.body()))
    # ValidationError and JSONDecodeError are ValueErrors; RecursionError: nested too deep.
    except (AppError, ValueError, RecursionError):
        return None


def claimed(request: Request, claims: tuple[str, ...] = ("idempotency-key",)) -> bool:
    """Whether the request has one of the ``claims`` headers, which the FastAPI route's guard
    claims as idempotency keys (and stores the answer under)."""
    return any(name in request.headers for name in claims)


# The answer to a request, or None: the twin answers it.
Answer = Callable[[Request], Awaitable[Response | None]]


class _Recorded:
    """A ``receive`` that keeps what it received, to give it again to the twin."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.messages: list[Message] = []

    async def __call__(self) -> Message:
        message = await self.receive()
        self.messages.append(message)
        return message

    def replay(self) -> Receive:
        pending = list(self.messages)

        async def receive() -> Message:
            return pending.pop(0) if pending else await self.receive()

        return receive


class PlainRoute:
    """The ASGI endpoint; ``twins`` are the FastAPI routes of the same path, by method."""

    def __init__(self, answers: Mapping[str, Answer], twins: Mapping[str, APIRoute]) -> None:
        self.answers = answers
        self.twins = twins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        twin = self.twins[method]
        scope["route"] = twin  # FastAPI's router leaves it to the route; the access log reads it
        recorded = _Recorded(receive)
        response = await self.answers[method](Request(scope, recorded))
        if response is None:
            await twin.handle(scope, recorded.replay(), send)
        else:
            await response(scope, receive, send)


def plain_route(path: str, answers: Mapping[str, Answer], routes: list[APIRoute]) -> Route:
    """The plain route of ``path`` for the methods of ``answers``; ``routes`` must hold its
    FastAPI twins."""
    twins = {
        method: route
        for route in routes
        if route.path == path
        for method in route.methods or ()
        if method in answers
    }
    route = Route(path, PlainRoute(answers, twins), methods=list(twins))
    route.methods = set(twins)  # Starlette adds HEAD to every GET; FastAPI does not
    return route

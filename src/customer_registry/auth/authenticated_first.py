"""A request with a body is authenticated before its body is parsed.

FastAPI parses a JSON body before it runs any dependency, authentication included: a
megabyte of JSON without credentials cost its parse before its 401, and malformed JSON
without credentials was a 400. The gates here run first, on the plain routes and, through
the route classes, in front of their FastAPI twins; they raise the error the route's own
authentication would. A bearer token is verified (signature, audience, expiry: no
statement once its signing key is known); whether its credential is revoked or covers the
client is read, as before, with the request's own statement. A subscription key has no
signature: it is looked up.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from customer_registry.auth import callers
from customer_registry.customers.access import Caller, TokenClaim
from customer_registry.customers.access_repository import get_key_caller
from customer_registry.http import canonical_paths
from customer_registry.http.idempotency import IdempotentRoute
from customer_registry.runtime import runtime

_AUTHENTICATED = "authenticated_first"


async def bearer_first(request: Request, client_id: int) -> TokenClaim:
    """The bearer token's claim on ``client_id``, its token verified."""
    database = runtime(request).database
    async with database.reading() as conn:
        authorization = request.headers.get("authorization")
        claim = await callers.bearer_claim(request, conn, authorization, client_id)
    setattr(request.state, _AUTHENTICATED, True)
    return claim


async def key_first(request: Request) -> Caller:
    """The client of the request's subscription key, the key looked up."""
    database = runtime(request).database
    async with database.reading() as conn:
        principal = await get_key_caller(conn, request.headers.get("x-subscription-key"))
    setattr(request.state, _AUTHENTICATED, True)
    return principal


class _AuthenticatedFirstRoute(IdempotentRoute):
    async def gate(self, request: Request) -> None:
        raise NotImplementedError

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.methods and self.methods <= {"GET", "HEAD"}:
            return handler  # no body to keep unparsed
        gate = self.gate

        async def authenticated_first(request: Request) -> Response:
            # A plain route that handed the request over may have authenticated it already.
            if not getattr(request.state, _AUTHENTICATED, False):
                await gate(request)
            return await handler(request)

        return authenticated_first


class HorizonRoute(_AuthenticatedFirstRoute):
    async def gate(self, request: Request) -> None:
        client_id = canonical_paths.client_id(request.path_params["clientId"])
        if client_id is None:
            return  # the route refuses its path before anything else
        await bearer_first(request, client_id)


class SubscriptionsRoute(_AuthenticatedFirstRoute):
    async def gate(self, request: Request) -> None:
        await key_first(request)

"""The request-owned transaction, as a FastAPI dependency."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from customer_registry.db import Store
from customer_registry.runtime import runtime

_READS = ("GET", "HEAD")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a POST endpoint that writes nothing unless an Idempotency-Key is claimed."""
    endpoint.reads_only = True  # type: ignore[attr-defined]
    return endpoint


def _reads(request: Request) -> bool:
    if request.method in _READS:
        return True
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return getattr(endpoint, "reads_only", False) and "idempotency-key" not in request.headers


async def request_store(request: Request) -> AsyncIterator[Store]:
    """The request's transaction: committed before the response is sent, rolled back on
    error. Reads (GET, HEAD, ``reads_only`` endpoints) run without one."""
    database = runtime(request).database
    opened = database.reading() if _reads(request) else database.transaction()
    async with opened as tx:
        yield runtime(request).store(tx)


CustomerStore = Annotated[Store, Depends(request_store, scope="function")]

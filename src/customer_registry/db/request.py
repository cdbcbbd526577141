"""The request-owned transaction, as a FastAPI dependency."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from customer_registry.db import Database, Store

_READS = ("GET", "HEAD")


async def request_store(request: Request) -> AsyncIterator[Store]:
    """The request's transaction: committed before the response is sent, rolled back on
    error. GET and HEAD read without one."""
    database: Database = request.app.state.database
    opened = database.reading() if request.method in _READS else database.transaction()
    async with opened as tx:
        yield Store(tx, request.app.state.vault)


CustomerStore = Annotated[Store, Depends(request_store, scope="function")]

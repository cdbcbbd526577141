"""Checks that run before a route's own body validation, after its authentication."""

from typing import Annotated

from fastapi import Depends
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request

from customer_registry.errors import UnsupportedMediaType


async def require_json(request: Request) -> None:
    """Refuse a request body that does not declare itself JSON (a body-less request passes)."""
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"the body must be application/json, not {media_type or 'undeclared'}"
        )


# A handler parameter, placed after authentication so a missing credential is reported first.
JsonBody = Annotated[None, Depends(require_json)]


def valid_or_none(adapter: TypeAdapter[str], value: str) -> str | None:
    """``value`` if it passes ``adapter``, else None: for a dependency that runs before the
    route's own validation (so that a 401 or 403 comes first) and must not use a value that
    validation is about to refuse."""
    try:
        adapter.validate_python(value)
    except ValidationError:
        return None
    return value

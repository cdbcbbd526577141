"""One spelling per resource: a path names a customer in exactly one way, or is a 400.

Starlette decodes a path's percent-escapes with replacement characters, so ``%FF``, ``%FE``
and ``%C0`` would all name the customer called "\ufffd"; pydantic reads an integer from
``01``, ``+1``, `` 1``, ``1.0`` and ``1_0``. Both routes of a path (plain and FastAPI) check
here, before a segment is used.
"""

import re
from typing import Annotated
from urllib.parse import unquote_to_bytes

from fastapi import Depends, Path
from starlette.requests import Request
from starlette.types import Scope

from customer_registry.auth.callers import MAX_CLIENT_ID
from customer_registry.customers.fields import CustomerNumberText
from customer_registry.errors import InvalidParameter, RequestInvalid

_CANONICAL_CLIENT_ID = re.compile(r"[1-9][0-9]{0,18}")
_CLIENT_ID_REASON = f"must be an integer from 1 to {MAX_CLIENT_ID}, written in digits only"
_PATH_REASON = "percent-escapes must encode UTF-8 text"


def client_id(segment: str) -> int | None:
    """The client id a path segment spells canonically; None for any other spelling."""
    if _CANONICAL_CLIENT_ID.fullmatch(segment) is None:
        return None
    value = int(segment)
    return value if value <= MAX_CLIENT_ID else None


def utf8_path(scope: Scope) -> bool:
    """Whether the raw path, percent-escapes decoded, is UTF-8 (a plain ASCII path is)."""
    raw: bytes = scope.get("raw_path") or b""
    if b"%" not in raw and raw.isascii():
        return True
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def canonical_path(request: Request) -> None:
    """Router dependency: refuse a path that spells its resource in a non-canonical way."""
    invalid = []
    if not utf8_path(request.scope):
        invalid.append(InvalidParameter("path", _PATH_REASON))
    segment = request.path_params.get("clientId")
    if segment is not None and client_id(segment) is None:
        invalid.append(InvalidParameter("clientId", _CLIENT_ID_REASON))
    if invalid:
        raise RequestInvalid(invalid)


CanonicalPath = Depends(canonical_path)


# The customer number of the registry's own routes (/registry/v1/.../customers/{customerNumber}).
CustomerNumberPath = Annotated[
    CustomerNumberText, Path(alias="customerNumber", min_length=1, max_length=100)
]

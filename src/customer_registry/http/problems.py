"""Errors as responses: each route's dialect chooses the body, problem+json by default.

Horizon and the registry's own API answer ``application/problem+json`` (spec A.6). A
Subscriptions route answers a rejected subscription key in the body of Riverty's API gateway
(spec B.1), and the token endpoint in RFC 6749's: those dialects register a ``Rendering`` for
their path prefix in ``Runtime.error_dialects``.
"""

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from customer_registry.errors import AppError, NotAuthenticated
from customer_registry.runtime import runtime

PROBLEM_JSON = "application/problem+json"
# A dialect's body and media type for an error, or None: the error is rendered as a problem.
Rendering = Callable[[AppError], tuple[dict[str, Any], str] | None]
_BEARER = {"WWW-Authenticate": 'Bearer realm="customer-registry"'}


def problem(error: AppError) -> dict[str, Any]:
    body = {
        "type": f"/problems/{error.code}",
        "title": error.title,
        "status": error.status,
        "category": error.category,
        "message": error.message,
    }
    if error.invalid_parameters:
        reasons = [{"name": p.name, "reason": p.reason} for p in error.invalid_parameters]
        body["invalidParameters"] = reasons
    return body


def _dialect_body(request: Request, error: AppError) -> tuple[dict[str, Any], str] | None:
    path = request.url.path
    for prefix, rendering in runtime(request).error_dialects.items():
        if path.startswith(prefix):
            return rendering(error)
    return None


def render(request: Request, error: AppError) -> Response:
    """The error as the response the route's dialect sends; a HEAD response has no body."""
    rendered = _dialect_body(request, error)
    headers = error.headers()
    if rendered is None and isinstance(error, NotAuthenticated):
        headers = {**headers, **_BEARER}
    if request.method == "HEAD":
        return Response(status_code=error.status, headers=headers)
    body, media_type = rendered or (problem(error), PROBLEM_JSON)
    return JSONResponse(body, status_code=error.status, headers=headers, media_type=media_type)


class ProblemParameter(BaseModel):
    name: str = Field(description="The field's JSON path in the dialect's names, or the parameter")
    reason: str


class Problem(BaseModel):
    """An error in application/problem+json, with the members of spec A.6."""

    type: str = Field(description="`/problems/<code>`, stable per kind of error")
    title: str
    status: int
    category: Literal["BUSINESS_ERROR", "TECHNICAL_ERROR"]
    message: str
    invalidParameters: list[ProblemParameter] = Field(
        default_factory=list, description="400 only: every field that failed, by its JSON path"
    )


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
_REASONS = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    403: "The credential does not cover this client",
    404: "Not found",
    408: "The request body did not arrive in time; the connection is closed",
    409: "Conflict (customer number taken, or a request with this idempotency key still running)",
    412: "The customer is not in the expected version",
    413: "The request body is larger than the configured limit",
    410: "The cursor is older than the retention: its events were purged",
    415: "The body is not JSON",
    422: "The idempotency key was used for a different request",
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer`: send an access token from POST /oauth/token",
        "required": True,
        "schema": {"type": "string"},
    }
}


def _problem_response(status: int, *, body: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _REASONS.get(status, "Error")}
    if body:
        response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
    if status == 401:
        response["headers"] = _WWW_AUTHENTICATE
    return response


def problem_responses(*statuses: int, body: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem+json errors (``body=False``: for HEAD)."""
    return {status: _problem_response(status, body=body) for status in statuses}

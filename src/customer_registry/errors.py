"""Application errors and how they are rendered.

Every error a client can see is an ``AppError``: a stable ``code``, an HTTP ``status``, a
``category`` telling the client whether a retry can help, and a message built from the values
involved. The tree::

    AppError
    ├── ConfigurationError            operator settings are unusable (CLI exit code 2)
    ├── RequestInvalid          400   the request breaks the schema; names every bad field
    │   └── CustomerInformationMissing  400   required customer data is absent
    ├── NotAuthenticated        401   no, malformed, expired or revoked credential
    │   └── GatewayError        401   Subscriptions key errors, in the API gateway's body
    ├── Forbidden               403   the credential does not cover the client
    ├── NotFound                404   (customers/errors.py: CustomerNotFound)
    ├── MethodNotAllowed        405
    ├── Conflict                409   (customers/errors.py: CustomerNumberTaken)
    ├── PreconditionFailed      412   If-Match / If-None-Match do not hold
    ├── RequestTimeout          408   the body did not arrive in time (connection closed)
    ├── PayloadTooLarge         413
    ├── UnsupportedMediaType    415   a body that is not JSON
    └── ServiceBusy             503   no database connection came free in time

Anything else that escapes a handler is rendered as a 500 ``TECHNICAL_ERROR`` that reveals
nothing about its cause.
"""

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from fastapi import Depends
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_JSON = "application/problem+json"
_REASONS = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    403: "The credential does not cover this client",
    404: "Not found",
    408: "The request body did not arrive in time; the connection is closed",
    409: "Conflict (customer number taken, or a request with this idempotency key still running)",
    412: "The customer is not in the expected version",
    413: "The request body is larger than the configured limit",
    415: "The body is not JSON",
    422: "The idempotency key was used for a different request",
}
BUSINESS_ERROR = "BUSINESS_ERROR"
TECHNICAL_ERROR = "TECHNICAL_ERROR"


@dataclass(frozen=True, slots=True)
class InvalidParameter:
    name: str
    reason: str


class AppError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"
    category: ClassVar[str] = TECHNICAL_ERROR
    media_type: ClassVar[str] = PROBLEM_JSON

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.title
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "category": self.category,
            "message": self.message,
        }

    def headers(self) -> dict[str, str]:
        return {}


class ConfigurationError(AppError):
    code = "configuration-error"
    title = "The service is misconfigured"


class BusinessError(AppError):
    category = BUSINESS_ERROR


class RequestInvalid(BusinessError):
    status = 400
    code = "validation-error"
    title = "Request did not validate"

    def __init__(self, invalid: list[InvalidParameter], message: str | None = None) -> None:
        self.invalid_parameters = invalid
        fields = ", ".join(p.name for p in invalid)
        super().__init__(message or f"{self.title}: {fields}")

    def body(self) -> dict[str, Any]:
        params = [{"name": p.name, "reason": p.reason} for p in self.invalid_parameters]
        return {**super().body(), "invalidParameters": params}


class CustomerInformationMissing(RequestInvalid):
    code = "customer-information-missing"
    title = "Customer Information Missing"


class NotAuthenticated(BusinessError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="customer-registry"'}


class GatewayRejection(BaseModel):
    """The body of a ``GatewayError``."""

    statusCode: Literal[401]
    message: str


class GatewayError(NotAuthenticated):
    """Subscription-key rejections, in the body Riverty's API gateway sends (spec B.1)."""

    media_type = "application/json"

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "message": self.message}

    def headers(self) -> dict[str, str]:
        return {}


class Forbidden(BusinessError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(BusinessError):
    status = 404
    code = "not-found"
    title = "Resource not found"


class MethodNotAllowed(BusinessError):
    status = 405
    code = "method-not-allowed"
    title = "Method not allowed"


class Conflict(BusinessError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(BusinessError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class RequestTimeout(AppError):
    """A technical error: the same request sent again in good time succeeds."""

    status = 408
    code = "request-timeout"
    title = "Request timeout"

    def headers(self) -> dict[str, str]:
        # Part of the body may still be on its way: nothing else can follow it on this
        # connection.
        return {"Connection": "close"}


class PayloadTooLarge(BusinessError):
    status = 413
    code = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(BusinessError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class ServiceBusy(AppError):
    status = 503
    code = "service-busy"
    title = "Service busy"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def render(request: Request, error: AppError) -> Response:
    """The error as the response its dialect sends; a HEAD response never has a body."""
    headers = error.headers()
    if request.method == "HEAD":
        return Response(status_code=error.status, headers=headers)
    return JSONResponse(
        error.body(), status_code=error.status, headers=headers, media_type=error.media_type
    )


class ProblemParameter(BaseModel):
    name: str = Field(description="The field's JSON path in the dialect's names, or the parameter")
    reason: str


class Problem(BaseModel):
    """An ``AppError.body()``: application/problem+json with the members of spec A.6."""

    type: str = Field(description="`/problems/<code>`, stable per kind of error")
    title: str
    status: int
    category: Literal["BUSINESS_ERROR", "TECHNICAL_ERROR"]
    message: str
    invalidParameters: list[ProblemParameter] = Field(
        default_factory=list, description="400 only: every field that failed, by its JSON path"
    )


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
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

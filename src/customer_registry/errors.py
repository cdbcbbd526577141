"""Application errors: what went wrong, in terms any API can render.

Every error a client can see is an ``AppError``: a stable ``code``, an HTTP ``status``, a
``category`` telling the client whether a retry can help, a message built from the values
involved and, where fields are at fault, the ``invalid_parameters``. An error does not know
the API it is answered in: ``http.problems.render`` gives it the body of the route's dialect
(problem+json; the Subscriptions gateway's body for a rejected key; RFC 6749's for the token
endpoint). The complete tree::

    AppError                              500   TECHNICAL_ERROR, reveals nothing
    ├── ConfigurationError                      operator settings unusable (CLI exit code 2)
    ├── RequestTimeout                    408   the body did not arrive in time
    ├── ServiceBusy                       503   no database connection came free in time
    ├── auth.oauth.OAuthError             400   token request refused (RFC 6749 section 5.2)
    │   ├── auth.oauth.OAuthClientRefused 401   unknown client or wrong secret
    │   └── auth.oauth.TooManyFailures    429   too many failed token requests
    └── BusinessError                           BUSINESS_ERROR: the request must change
        ├── RequestInvalid                400   names every bad field
        │   ├── CustomerInformationMissing 400  required customer data is absent
        │   └── BodyUnreadable            400   the body cannot be parsed
        ├── NotAuthenticated              401   no, malformed, expired or revoked credential
        ├── Forbidden                     403   the credential does not cover the client
        ├── NotFound                      404
        │   ├── customers.errors.CustomerNotFound
        │   ├── customers.errors.PersonNotFound
        │   ├── events.service.WebhookNotFound
        │   └── events.activity.EventNotFound  not kept (purged) or not yet
        ├── MethodNotAllowed              405
        ├── Conflict                      409
        │   ├── customers.errors.CustomerNumberTaken
        │   ├── customers.errors.IdentifierTaken     names the identifiers in use
        │   └── http.idempotency.IdempotentRequestRunning
        ├── events.service.CursorExpired  410   a feed cursor older than the retention
        ├── PreconditionFailed            412
        │   └── customers.errors.CustomerChanged
        ├── PayloadTooLarge               413
        ├── UnsupportedMediaType          415   a body that is not JSON
        ├── http.idempotency.IdempotencyKeyReused 422
        └── HttpError(status)                   any other status Starlette raises

Anything else that escapes a handler is rendered as a 500 ``TECHNICAL_ERROR``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any, ClassVar

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

    def __init__(
        self, message: str | None = None, invalid_parameters: Iterable[InvalidParameter] = ()
    ) -> None:
        self.message = message or self.title
        self.invalid_parameters = list(invalid_parameters)
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {}


class ConfigurationError(AppError):
    code = "configuration-error"
    title = "The service is misconfigured"


class RequestTimeout(AppError):
    """A technical error: the same request sent again in good time succeeds."""

    status = 408
    code = "request-timeout"
    title = "Request timeout"

    def headers(self) -> dict[str, str]:
        # Part of the body may still be on its way: nothing else can follow it on this
        # connection.
        return {"Connection": "close"}


class ServiceBusy(AppError):
    status = 503
    code = "service-busy"
    title = "Service busy"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class BusinessError(AppError):
    category = BUSINESS_ERROR


class RequestInvalid(BusinessError):
    status = 400
    code = "validation-error"
    title = "Request did not validate"

    def __init__(self, invalid: list[InvalidParameter], message: str | None = None) -> None:
        fields = ", ".join(p.name for p in invalid)
        super().__init__(message or f"{self.title}: {fields}", invalid)


class CustomerInformationMissing(RequestInvalid):
    code = "customer-information-missing"
    title = "Customer Information Missing"


class BodyUnreadable(RequestInvalid):
    def __init__(self, message: str | None = None) -> None:
        # FastAPI's words for a body it could not decode (e.g. nested 10,000 levels deep).
        reason = "cannot be parsed as JSON"
        super().__init__([InvalidParameter("body", reason)], f"the request body {reason}")


class NotAuthenticated(BusinessError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


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


class PayloadTooLarge(BusinessError):
    status = 413
    code = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(BusinessError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


@cache
def http_error(status: int) -> type[BusinessError]:
    """The error of an HTTP status no class above stands for (one class per status)."""
    phrase = HTTPStatus(status).phrase
    attributes = {"status": status, "code": f"http-{status}", "title": phrase}
    return type(f"HttpError{status}", (BusinessError,), attributes)


_LOCATIONS = frozenset({"body", "query", "path", "header"})


def _parameter_name(loc: tuple[Any, ...]) -> str:
    parts = list(loc[1:] if loc and loc[0] in _LOCATIONS else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name.lstrip(".") or (str(loc[0]) if loc else "body")


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return f"malformed JSON: {error.get('ctx', {}).get('error', 'cannot be parsed')}"
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> RequestInvalid:
    """Pydantic's validation errors (their ``loc`` in the request: ``("body", ...)``) as one
    400 naming each field once, by its JSON path in the dialect's names."""
    errors = list(errors)
    invalid: dict[str, InvalidParameter] = {}
    for error in errors:
        name = "body" if error["type"] == "json_invalid" else _parameter_name(tuple(error["loc"]))
        invalid.setdefault(name, InvalidParameter(name, _reason(error)))
    only_missing = all(error["type"] == "missing" for error in errors)
    kind = CustomerInformationMissing if only_missing else RequestInvalid
    return kind(list(invalid.values()))

"""POST /oauth/token: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4)."""

import base64
import binascii
import json
import re
from typing import Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from customer_registry.auth import tokens
from customer_registry.auth.grants import ClientRefused, ClientThrottled, TokenRequest, grant
from customer_registry.errors import AppError
from customer_registry.http.problems import problem_responses
from customer_registry.runtime import AppRuntime

router = APIRouter(tags=["OAuth"])
TOKEN_PATH = "/oauth/token"

_FORM = "application/x-www-form-urlencoded"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(AppError):
    """A refused token request; rendered in the body RFC 6749 section 5.2 prescribes."""

    status = 400
    code = "oauth-error"
    title = "Token request refused"

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        super().__init__(description)

    def headers(self) -> dict[str, str]:
        return dict(_NO_STORE)


class OAuthClientRefused(OAuthError):
    status = 401

    def headers(self) -> dict[str, str]:
        return {**_NO_STORE, "WWW-Authenticate": 'Basic realm="customer-registry"'}


class TooManyFailures(OAuthError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        message = f"too many failed token requests; retry after {retry_after} s"
        super().__init__("too_many_requests", message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Retry-After": str(self.retry_after)}


def oauth_error(error: AppError) -> tuple[dict[str, Any], str] | None:
    """The token endpoint's dialect of an error: RFC 6749's body for a refused request."""
    if isinstance(error, OAuthError):
        return {"error": error.error, "error_description": error.message}, "application/json"
    return None


async def _form_or_json(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == _FORM:
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    if media_type == "application/json":
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise OAuthError("invalid_request", "the request body is not valid JSON") from exc
        if isinstance(body, dict):
            return {key: value for key, value in body.items() if isinstance(value, str)}
        raise OAuthError("invalid_request", "the request body must be a JSON object")
    raise OAuthError("invalid_request", f"send the token request as {_FORM} or application/json")


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthClientRefused("invalid_client", "malformed Basic credentials") from exc
    return unquote(client_id), unquote(secret)


def _client_credentials(request: Request, fields: dict[str, str]) -> tuple[str, str]:
    basic = _basic_credentials(request)
    client_id, secret = basic or (fields.get("client_id"), fields.get("client_secret"))
    if not client_id or not secret:
        raise OAuthError("invalid_request", "client_id and client_secret are required")
    if not (_is_text(client_id) and _is_text(secret)):
        raise OAuthError(
            "invalid_request", "client_id and client_secret must be text without NUL characters"
        )
    return client_id, secret


def _is_text(value: str) -> bool:
    """What both databases can compare: no NUL, no lone surrogate (JSON's "\\ud800")."""
    return "\0" not in value and _SURROGATE.search(value) is None


_TOKEN_REQUEST_BODY = {
    "required": True,
    "content": {
        media_type: {
            "schema": {
                "type": "object",
                # client_id and client_secret may come as HTTP Basic credentials instead.
                "required": ["grant_type", "client_id", "client_secret"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "client_id": {"type": "string", "minLength": 1},
                    "client_secret": {"type": "string", "minLength": 1},
                    "audience": {
                        "type": "string",
                        "description": "If sent, the configured token audience",
                        "example": "https://api.horizonafs.io",
                    },
                },
            }
        }
        for media_type in (_FORM, "application/json")
    },
}


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class OAuthErrorOut(BaseModel):
    """RFC 6749 section 5.2; ``invalid_target`` is RFC 8707's; ``too_many_requests`` ours."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "unsupported_grant_type",
        "invalid_target",
        "too_many_requests",
    ]
    error_description: str


_NO_STORE_HEADERS = {
    name: {"description": f"`{value}`", "required": True, "schema": {"type": "string"}}
    for name, value in _NO_STORE.items()
}
_TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TokenOut, "description": "A bearer access token", "headers": _NO_STORE_HEADERS},
    400: {
        "model": OAuthErrorOut,
        "description": "invalid_request, unsupported_grant_type or invalid_target (audience)",
        "headers": _NO_STORE_HEADERS,
    },
    401: {
        "model": OAuthErrorOut,
        "description": "invalid_client: unknown client or wrong secret",
        "headers": {
            **_NO_STORE_HEADERS,
            "WWW-Authenticate": {
                "description": "`Basic`",
                "required": True,
                "schema": {"type": "string"},
            },
        },
    },
    429: {
        "model": OAuthErrorOut,
        "description": "too_many_requests: too many failed token requests for this client id "
        "or from this address; retry after the window",
        "headers": {
            **_NO_STORE_HEADERS,
            "Retry-After": {
                "description": "Seconds until the window ends",
                "required": True,
                "schema": {"type": "integer"},
            },
        },
    },
    **problem_responses(408, 413),
}


@router.post(
    TOKEN_PATH,
    responses=_TOKEN_RESPONSES,
    openapi_extra={"requestBody": _TOKEN_REQUEST_BODY},
)
async def create_token(request: Request, state: AppRuntime) -> JSONResponse:
    """Exchange a client id and secret for a bearer access token (client-credentials grant)."""
    settings = state.settings
    fields = await _form_or_json(request)
    grant_type = fields.get("grant_type")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    audience = fields.get("audience")
    if audience and audience.rstrip("/") != settings.token_audience.rstrip("/"):
        raise OAuthError("invalid_target", f"unknown audience {audience!r}")
    client_id, secret = _client_credentials(request, fields)
    address = request.client.host if request.client else ""
    try:
        token = await grant(
            state.database,
            settings,
            state.vault,
            TokenRequest(client_id, secret, address),
        )
    except ClientThrottled as throttled:
        raise TooManyFailures(throttled.retry_after) from None
    except ClientRefused:
        raise OAuthClientRefused("invalid_client", "unknown client or wrong secret") from None
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": settings.token_ttl_seconds,
        "scope": tokens.TOKEN_SCOPE,
    }
    return JSONResponse(body, headers=_NO_STORE)

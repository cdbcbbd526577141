"""The OpenAPI document at /openapi.json: FastAPI's, completed where FastAPI cannot say it.

The routers declare each operation's responses, headers and examples. Four things are
added here because FastAPI cannot express them per route:

- FastAPI documents a 422 for every operation with parameters, but invalid requests are
  answered with 400 problem+json (app.validation_error): the 422s go.
- FastAPI puts a response model only under the route's own media type, so the Problem
  schema that errors.problem_responses refers to under application/problem+json is
  registered here.
- The request-id middleware answers every request, X-Request-ID included, so every
  response documents that header.
- The token URL is absolute when CUSTOMER_REGISTRY_PUBLIC_URL is set. Otherwise it stays
  relative, which OpenAPI 3.1 allows (relative references resolve against the document),
  though validators that assert the meta-schema's `format: uri` refuse it.
"""

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from customer_registry.http.observability import REQUEST_ID_HEADER
from customer_registry.http.problems import Problem

DESCRIPTION = """\
Customer master data, wire-compatible with two of Riverty's customer APIs over one store:
a customer written through one dialect reads back through the other.

- **Horizon customers**: bearer tokens from `POST /oauth/token` (client-credentials grant);
  a token works for the clients its credential covers (other clients: 403).
- **Subscriptions customers**: the `X-Subscription-Key` of a credential that covers exactly
  one client; key errors are the API gateway's `{statusCode, message}` 401 bodies.

Errors are `application/problem+json` (`Problem`). Every response carries `X-Request-ID`.
A method a path does not serve is a 405 problem with an `Allow` header.
Behaviour the upstream documentation leaves open is recorded in `docs/decisions.md`."""

TAGS = [
    {
        "name": "OAuth",
        "description": "Access tokens for the Horizon and Registry routes (RFC 6749 4.4).",
    },
    {
        "name": "Horizon customers",
        "description": "Riverty's Horizon customer API, per client: OAuth2 bearer tokens.",
    },
    {
        "name": "Subscriptions customers",
        "description": "Riverty's Subscriptions customer API: X-Subscription-Key.",
    },
    {
        "name": "Registry",
        "description": "This service's own routes: change history, change events, webhooks.",
    },
    {"name": "Health", "description": "Probes and metrics: no authentication, no personal data."},
]

_REQUEST_ID = {
    "description": "The request's X-Request-ID when it sent 1 to 128 printable ASCII "
    "characters, otherwise a generated one; logged and kept in the customer history",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
}
_REF = "#/components/{kind}/{name}"
# FastAPI's schemas for the 422 it documents but this service never sends.
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _without_defaults(schema: dict[str, Any]) -> None:
    for member in schema.get("properties", {}).values():
        member.pop("default", None)


# A member typed ``X | Omitted = None`` is documented as optional, never as null.
Omitted = SkipJsonSchema[None]


class Representation(BaseModel):
    """A response body: it is built as a dict, and this model only documents it."""

    model_config = ConfigDict(json_schema_extra=_without_defaults)


def link(
    operation_id: str, parameters: dict[str, str], description: str, *, body: str | None = None
) -> dict[str, Any]:
    """An OpenAPI link to the operation ``operation_id``; values are runtime expressions."""
    target = {"operationId": operation_id, "description": description, "parameters": parameters}
    return {**target, **({"requestBody": body} if body else {})}


def operation_id(route: APIRoute) -> str:
    """The handler's name after its API's: ``horizon_get_customer``, ``oauth_create_token``.

    The API is the handler's module, or the package of a ``router`` module. The ids are
    public (clients generate code from them): a router whose package is not its API's name
    passes ``operation_ids(api)`` to its ``APIRouter``."""
    package, module = route.endpoint.__module__.rsplit(".", 2)[-2:]
    return f"{package if module == 'router' else module}_{route.name}"


def operation_ids(api: str) -> Callable[[APIRoute], str]:
    """``generate_unique_id_function`` for a router serving the API named ``api``."""
    return lambda route: f"{api}_{route.name}"


def example(name: str) -> Any:
    """A documented example from Riverty's pages, as shipped in ``examples/<name>.json``."""
    return json.loads(files("customer_registry").joinpath("examples", f"{name}.json").read_text())


def _component_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    template = _REF.format(kind="schemas", name="{model}")
    _, top = models_json_schema([(m, "serialization") for m in models], ref_template=template)
    return dict(top.get("$defs", {}))


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in document["paths"].values() for operation in item.values()]


def _absolute_token_url(document: dict[str, Any], public_url: str) -> None:
    scheme = document["components"]["securitySchemes"]["OAuth2ClientCredentials"]
    flow = scheme["flows"]["clientCredentials"]
    flow["tokenUrl"] = public_url.rstrip("/") + flow["tokenUrl"]


def complete(document: dict[str, Any], public_url: str | None = None) -> dict[str, Any]:
    """FastAPI's document with tags, the Problem schema, X-Request-ID and without its 422s."""
    document["info"]["description"] = DESCRIPTION
    if public_url:
        _absolute_token_url(document, public_url)
    document["tags"] = TAGS
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(_component_schemas(Problem))
    components["headers"] = {REQUEST_ID_HEADER: _REQUEST_ID}
    request_id = {"$ref": _REF.format(kind="headers", name=REQUEST_ID_HEADER)}
    for operation in _operations(document):
        if "HTTPValidationError" in str(operation["responses"].get("422")):
            del operation["responses"]["422"]
        for response in operation["responses"].values():
            response.setdefault("headers", {})[REQUEST_ID_HEADER] = request_id
    return document


def install(app: FastAPI) -> None:
    """Make ``app`` serve the completed document, built once on first request."""
    build = app.openapi
    public_url = app.state.runtime.settings.public_url

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build(), public_url)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

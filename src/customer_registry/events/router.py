"""The change-event feed and the webhook endpoints of a client: the registry's own API."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from customer_registry.auth.authenticated_first import HorizonRoute
from customer_registry.auth.callers import (
    MAX_CLIENT_ID,
    BearerPrincipal,
    Principal,
    bearer_claim,
    covered,
    oauth2_scheme,
)
from customer_registry.db import Database
from customer_registry.db.request import CustomerStore
from customer_registry.errors import (
    PROBLEM_JSON,
    PROBLEM_SCHEMA,
    InvalidParameter,
    JsonBody,
    RequestInvalid,
    problem_responses,
)
from customer_registry.events import schemas, service, targets
from customer_registry.http.canonical_paths import CanonicalPath
from customer_registry.http.idempotency import HorizonIdempotency
from customer_registry.http.openapi import operation_ids
from customer_registry.http.plain_routes import FastJSONResponse

router = APIRouter(
    route_class=HorizonRoute,
    prefix="/registry/v1/clients/{clientId}",
    tags=["Registry"],
    dependencies=[CanonicalPath],
    generate_unique_id_function=operation_ids("registry"),
)
_GONE: dict[int | str, dict[str, Any]] = {
    410: {
        "description": "The cursor is older than the retention: its events were purged",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    }
}


async def _reader(
    request: Request,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
    client_id: Annotated[int, Path(alias="clientId", ge=1, le=MAX_CLIENT_ID)],
) -> Principal:
    """The path's client, once the bearer token covers it: checked on a connection of its
    own, which a long poll does not hold while it waits."""
    database: Database = request.app.state.database
    async with database.reading() as conn:
        return await covered(conn, await bearer_claim(request, conn, authorization, client_id))


@router.get(
    "/events",
    responses={
        200: {"model": schemas.FeedOut, "description": "The next events, oldest first"},
        **problem_responses(400, 401, 403),
        **_GONE,
    },
)
async def list_events(
    request: Request,
    caller: Annotated[Principal, Depends(_reader)],
    after: Annotated[
        str | None, Query(max_length=100, description="The `next` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=30, description="Seconds to wait for an event if none is there")
    ] = 0,
) -> JSONResponse:
    """Change events of the client's customers in commit order, after a cursor."""
    position = None if after is None else schemas.cursor_position(after, caller.client_id)
    page = await service.feed(request.app.state.database, caller.client_id, position, limit, wait)
    vault = request.app.state.vault
    return FastJSONResponse(
        {
            "events": [schemas.event(row, vault) for row in page.events],
            "next": schemas.cursor(caller.client_id, page.last),
        }
    )


async def _allowed(
    request: Request, body: schemas.WebhookIn, _: Annotated[Principal, Depends(_reader)]
) -> schemas.WebhookIn:
    """The new endpoint, once the token covers the client and the URL may receive webhooks:
    checked before the request's transaction begins (a name lookup must not hold SQLite's
    writers)."""
    try:
        allow = request.app.state.settings.webhook_allow_private
        await targets.checked(str(body.url), allow_private=allow)
    except targets.TargetRefused as exc:
        raise RequestInvalid([InvalidParameter("url", str(exc))]) from exc
    return body


@router.post(
    "/webhooks",
    status_code=201,
    responses={
        201: {"model": schemas.WebhookCreatedOut, "description": "Created; the secret shown once"},
        **problem_responses(400, 401, 403, 409, 413, 415, 422),
    },
)
async def create_webhook(
    _json: JsonBody,
    new: Annotated[schemas.WebhookIn, Depends(_allowed)],
    store: CustomerStore,
    caller: BearerPrincipal,
    _once: HorizonIdempotency,
) -> JSONResponse:
    """Send the client's change events to a URL, signed (Standard Webhooks)."""
    created = await service.add_webhook(store, caller.client_id, str(new.url), new.eventTypes)
    body: dict[str, Any] = {
        "id": created.endpoint["id"],
        "url": created.endpoint["url"],
        "eventTypes": new.eventTypes,
        "secret": created.secret,
    }
    return FastJSONResponse(body, status_code=201)


@router.get(
    "/webhooks",
    responses={
        200: {"model": schemas.WebhookListOut, "description": "The client's endpoints"},
        **problem_responses(400, 401, 403),
    },
)
async def list_webhooks(store: CustomerStore, caller: BearerPrincipal) -> JSONResponse:
    """The client's webhook endpoints and how their deliveries go, without secrets."""
    found = await service.webhooks(store.conn, caller.client_id)
    return FastJSONResponse({"items": [schemas.webhook(row) for row in found]})


@router.delete(
    "/webhooks/{webhookId}",
    status_code=204,
    responses={204: {"description": "Removed"}, **problem_responses(400, 401, 403, 404)},
)
async def delete_webhook(
    store: CustomerStore,
    caller: BearerPrincipal,
    webhook_id: Annotated[str, Path(alias="webhookId", min_length=1, max_length=32)],
) -> Response:
    """Stop sending events to the endpoint; its pending and failed deliveries go with it."""
    await service.remove_webhook(store.conn, caller.client_id, webhook_id)
    return Response(status_code=204)

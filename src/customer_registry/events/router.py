"""The change-event feed and the webhook endpoints of a client: the registry's own API."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from customer_registry.auth.authenticated_first import HorizonRoute
from customer_registry.auth.callers import MAX_CLIENT_ID, BearerCaller, bearer_claim, oauth2_scheme
from customer_registry.customers.access import Caller
from customer_registry.customers.access_repository import get_token_caller
from customer_registry.db.request import CustomerStore
from customer_registry.errors import InvalidParameter, RequestInvalid
from customer_registry.events import schemas, service, targets
from customer_registry.http.canonical_paths import CanonicalPath
from customer_registry.http.idempotency import HorizonIdempotency
from customer_registry.http.json_body import JsonBody
from customer_registry.http.openapi import operation_ids
from customer_registry.http.plain_routes import FastJSONResponse
from customer_registry.http.problems import problem_responses
from customer_registry.runtime import AppRuntime, runtime

router = APIRouter(
    route_class=HorizonRoute,
    prefix="/registry/v1/clients/{clientId}",
    tags=["Registry"],
    dependencies=[CanonicalPath],
    generate_unique_id_function=operation_ids("registry"),
)


async def _reader(
    request: Request,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
    client_id: Annotated[int, Path(alias="clientId", ge=1, le=MAX_CLIENT_ID)],
) -> Caller:
    """The path's client, once the bearer token covers it: checked on a connection of its
    own, which a long poll does not hold while it waits."""
    async with runtime(request).database.reading() as conn:
        claim = await bearer_claim(request, conn, authorization, client_id)
        return await get_token_caller(conn, claim)


Reader = Annotated[Caller, Depends(_reader)]


@router.get(
    "/events",
    responses={
        200: {"model": schemas.FeedOut, "description": "The next events, oldest first"},
        **problem_responses(400, 401, 403, 410),
    },
)
async def list_events(
    state: AppRuntime,
    caller: Reader,
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
    page = await service.feed(state.database, caller.client_id, position, limit, wait)
    return FastJSONResponse(
        {
            "events": [schemas.event(row, state.vault) for row in page.events],
            "next": schemas.cursor(caller.client_id, page.last),
        }
    )


async def _allowed(state: AppRuntime, body: schemas.WebhookIn, _: Reader) -> schemas.WebhookIn:
    """The new endpoint, once the token covers the client and the URL may receive webhooks:
    checked before the request's transaction begins (a name lookup must not hold SQLite's
    writers)."""
    try:
        allow = state.settings.webhook_allow_private
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
    caller: BearerCaller,
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
async def list_webhooks(store: CustomerStore, caller: BearerCaller) -> JSONResponse:
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
    caller: BearerCaller,
    webhook_id: Annotated[str, Path(alias="webhookId", min_length=1, max_length=32)],
) -> Response:
    """Stop sending events to the endpoint; its pending and failed deliveries go with it."""
    await service.remove_webhook(store.conn, caller.client_id, webhook_id)
    return Response(status_code=204)

"""The console's events page: a client's change events, newest first, where each stands at
each of the client's webhook endpoints, and replays."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from customer_registry.console import event_views, pages, views
from customer_registry.console.access import ClientId, ClientSession, require_form
from customer_registry.console.route import ConsoleRoute
from customer_registry.db import Database
from customer_registry.db.request import CustomerStore
from customer_registry.events import activity
from customer_registry.runtime import runtime

logger = structlog.get_logger(__name__)
router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
EVENTS_PAGE = 25
MAX_POSITION = 2**63 - 1
Position = Annotated[int | None, Query(ge=1, le=MAX_POSITION)]
EndpointId = Annotated[str | None, Query(max_length=32)]


@router.get("/clients/{client_id}/events")
async def events_page(
    request: Request, store: CustomerStore, session: ClientSession, client_id: ClientId,
    before: Position = None, replayed: EndpointId = None, start: Position = None,
) -> Response:  # fmt: skip
    """The client's events, newest first, with each webhook endpoint's delivery of them."""
    database: Database = runtime(request).database
    found = await activity.recent(database, store.conn, client_id, before, EVENTS_PAGE)
    notice = event_views.replay_notice(found.endpoints, replayed, start)
    return pages.render(
        request, "events.html", session=session, client_id=client_id, recent=found,
        paged=before is not None, notice=notice,
        newest=found.events[0].position if found.events else None,
        described=event_views.delivery_text, moment=views.moment,
    )  # fmt: skip


@router.post("/clients/{client_id}/events/replay")
async def replay_events(
    request: Request, store: CustomerStore, session: ClientSession, client_id: ClientId,
    endpoint: Annotated[str, Form(min_length=1, max_length=32)],
    position: Annotated[int, Form(ge=1, le=MAX_POSITION)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    """Send an endpoint an event and every later one again; back to the events page."""
    require_form(session, csrf)
    start = await activity.replay_from(store.conn, client_id, endpoint, position)
    logger.info(
        "console webhook replay", operator=session.operator_name, client_id=client_id,
        endpoint=endpoint, start=start,
    )  # fmt: skip
    path = f"/clients/{client_id}/events"
    return pages.redirect(request, path, replayed=endpoint, start=str(start))

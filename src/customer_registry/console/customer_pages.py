"""The console's customer pages: clients, search, the customer card, its history."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from customer_registry.auth import credentials
from customer_registry.console import pages, views
from customer_registry.console.access import (
    ClientId,
    ClientSession,
    OperatorSession,
    require_form,
)
from customer_registry.console.route import ConsoleRoute
from customer_registry.console.sessions import Session
from customer_registry.customers import browse
from customer_registry.customers.browse import BrowseField, BrowseQuery
from customer_registry.customers.errors import CustomerNotFound
from customer_registry.customers.fields import CustomerNumberText
from customer_registry.customers.model import Customer
from customer_registry.db import Store
from customer_registry.db.request import CustomerStore
from customer_registry.privacy import service as privacy

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Number = Annotated[CustomerNumberText, Query(min_length=1, max_length=100)]
FormNumber = Annotated[CustomerNumberText, Form(min_length=1, max_length=100)]
Key = Annotated[str | None, Query(max_length=400)]
TIMELINE = 20
HISTORY_PAGE = 50
FIELDS: dict[str, str] = {
    "any": "Any field",
    "name": "Name starts with",
    "customerNumber": "Customer number",
    "nationalId": "National ID",
    "organizationNumber": "Organisation number",
    "phone": "Phone (with country code)",
    "email": "E-mail",
}


@router.get("/clients")
async def clients_page(
    request: Request, store: CustomerStore, session: OperatorSession
) -> Response:
    """Every client the operator may see, with its number of customers."""
    operator = None if session.all_clients else session.operator_id
    found = await browse.clients(store, operator)
    return pages.render(request, "clients.html", session=session, clients=found)


@router.get("/clients/{client_id}")
async def client_page(
    request: Request,
    store: CustomerStore,
    session: ClientSession,
    client_id: ClientId,
    q: Annotated[str, Query(max_length=200)] = "",
    field: BrowseField = "any",
    after_key: Key = None,
    after: Key = None,
) -> Response:
    """The client's customers: every one, or those the search finds, a page at a time."""
    position = None if after is None else (after_key or "", after)
    page = await browse.browse(store, client_id, BrowseQuery(q, field, position))
    return pages.render(
        request, "client.html", session=session, client_id=client_id, q=q, field=field,
        fields=FIELDS, page=page, paged=position is not None, name_of=views.name_of,
    )  # fmt: skip


async def _stored(store: Store, client_id: int, number: str) -> Customer:
    """The customer; if there is none, a problem that says when it was erased, if it was."""
    try:
        return await browse.card(store, client_id, number)
    except CustomerNotFound as exc:
        raise await privacy.missing(store, client_id, number) from exc


async def _card(
    request: Request, store: Store, session: Session, customer: Customer, *, revealed: bool
) -> Response:
    timeline = await browse.timeline(
        store, customer.client_id, customer.customer_number, through=None, limit=TIMELINE
    )
    labels = await credentials.labels(store.conn, views.credential_ids(timeline.items))
    return pages.render(
        request, "customer.html", session=session, customer=customer,
        name=views.name_of(customer), fields=views.canonical_fields(customer),
        dialects=views.dialect_views(customer), revealed=revealed,
        timeline=views.timeline(timeline.items, labels), older=timeline.older,
    )  # fmt: skip


@router.get("/clients/{client_id}/customer")
async def customer_page(
    request: Request, store: CustomerStore, session: ClientSession, client_id: ClientId,
    number: Number,
) -> Response:  # fmt: skip
    """The customer card: canonical fields, both APIs' views, the latest changes."""
    customer = await _stored(store, client_id, number)
    return await _card(request, store, session, customer, revealed=False)


@router.post("/clients/{client_id}/customer/reveal")
async def reveal_customer(
    request: Request, store: CustomerStore, session: ClientSession, client_id: ClientId,
    number: FormNumber, csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    """The card with the national ID shown; the reveal goes into the history by name."""
    require_form(session, csrf)
    customer = await browse.reveal(store, client_id, number, session.operator_name)
    return await _card(request, store, session, customer, revealed=True)


@router.get("/clients/{client_id}/customer/history")
async def history_page(
    request: Request, store: CustomerStore, session: ClientSession, client_id: ClientId,
    number: Number, through: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:  # fmt: skip
    """Changes and reveals, newest first, a page at a time."""
    customer = await _stored(store, client_id, number)
    found = await browse.timeline(store, client_id, number, through=through, limit=HISTORY_PAGE)
    labels = await credentials.labels(store.conn, views.credential_ids(found.items))
    return pages.render(
        request, "history.html", session=session, customer=customer,
        name=views.name_of(customer), timeline=views.timeline(found.items, labels),
        older=found.older,
    )  # fmt: skip

"""Subscriptions customer routes: HTTP in, one service call, HTTP out."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from customer_registry.auth.authenticated_first import SubscriptionsRoute
from customer_registry.auth.callers import SubscriptionCaller, SubscriptionKey, request_id
from customer_registry.customers import service
from customer_registry.customers.access import Caller
from customer_registry.customers.fields import CustomerNumberText
from customer_registry.customers.model import Customer
from customer_registry.db import Store
from customer_registry.db.request import CustomerStore
from customer_registry.http.canonical_paths import CanonicalPath
from customer_registry.http.conditional import etag, not_modified, unchanged, write_condition
from customer_registry.http.idempotency import SubscriptionsIdempotency
from customer_registry.http.json_body import JsonBody, valid_or_none
from customer_registry.http.plain_routes import FastJSONResponse
from customer_registry.subscriptions import responses, schemas

CUSTOMERS_PATH = "/subscriptions/v1/customers"
router = APIRouter(
    route_class=SubscriptionsRoute,
    prefix=CUSTOMERS_PATH,
    tags=["Subscriptions customers"],
    dependencies=[CanonicalPath],
)
DIALECT = "subscriptions"
CUSTOMER_PATH = f"{CUSTOMERS_PATH}/{{customerNumber}}"

CustomerNumber = Annotated[
    CustomerNumberText,
    Path(alias="customerNumber", min_length=1, max_length=100, examples=["c1631704458"]),
]
VALID_NUMBER = TypeAdapter(CustomerNumber)


def answer(body: dict[str, Any], version: int) -> JSONResponse:
    return FastJSONResponse(body, headers={"ETag": etag(version)})


@router.post("", responses=responses.POST_RESPONSES, openapi_extra=responses.POST_REQUEST)
async def create_customer(
    request: Request,
    store: CustomerStore,
    caller: SubscriptionCaller,
    _json: JsonBody,
    _once: SubscriptionsIdempotency,
    body: schemas.CustomerRequest,
) -> JSONResponse:
    """Create the customer, or update it when the client already has that customer number."""
    return await create(request, store, caller, body)


async def create(
    request: Request, store: Store, caller: Caller, body: schemas.CustomerRequest
) -> JSONResponse:
    """The POST's write and its answer."""
    write = schemas.to_customer(body, caller.client_id)
    customer = await service.upsert(store, write, caller.audit(DIALECT, request_id(request)))
    return answer(schemas.sign_up(customer), customer.version)


@router.put(
    "/{customerNumber}",
    responses=responses.PUT_RESPONSES,
    openapi_extra=responses.PUT_REQUEST,
)
async def update_customer(
    request: Request,
    store: CustomerStore,
    caller: SubscriptionCaller,
    _json: JsonBody,
    _once: SubscriptionsIdempotency,
    customer_number: CustomerNumber,
    body: schemas.CustomerRequest,
    if_match: Annotated[str | None, Header(description="Update only at these ETags")] = None,
) -> JSONResponse:
    """Update an existing customer, including its payment registration and address."""
    write = schemas.to_customer(body, caller.client_id, path_number=customer_number)
    condition = write_condition(if_match, None)
    customer = await service.update(
        store, write, caller.audit(DIALECT, request_id(request)), condition
    )
    return answer(schemas.sign_up(customer), customer.version)


async def _keyed_customer(
    request: Request, store: CustomerStore, key: SubscriptionKey
) -> tuple[Caller, Customer | None]:
    """The key's client and the path's customer, read in the statement that checks the key.

    A dependency, so that a refused key comes before the path's own validation, as on every
    route; a number that validation will refuse is not looked up.
    """
    number = valid_or_none(VALID_NUMBER, request.path_params["customerNumber"])
    return await service.read_by_key(store, key, number)


@router.get("/{customerNumber}", responses=responses.GET_RESPONSES)
async def get_customer(
    request: Request,
    keyed: Annotated[tuple[Caller, Customer | None], Depends(_keyed_customer)],
    customer_number: CustomerNumber,
    if_none_match: Annotated[str | None, Header(description="304 if unchanged")] = None,
) -> Response:
    """Get the customer with the given (merchant's) customer number."""
    holder, stored = keyed
    return read(request, stored, holder.client_id, customer_number)


def read(request: Request, stored: Customer | None, client_id: int, number: str) -> Response:
    """The answer to a GET of ``stored`` (If-None-Match read from the request)."""
    customer = service.existing(stored, client_id, number)
    if not_modified(request.headers.get("if-none-match"), customer.version):
        return unchanged(customer.version)
    return answer(schemas.from_customer(customer), customer.version)

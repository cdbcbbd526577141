"""Horizon customer routes: HTTP in, one service call, HTTP out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from customer_registry.auth.authenticated_first import HorizonRoute
from customer_registry.auth.callers import BearerCaller, BearerClaim, horizon_client, request_id
from customer_registry.customers import service
from customer_registry.customers.access import Caller
from customer_registry.customers.fields import CustomerNumberText
from customer_registry.customers.model import Customer, SearchQuery
from customer_registry.db import Store
from customer_registry.db.request import CustomerStore, reads_only
from customer_registry.horizon import responses, schemas
from customer_registry.horizon.directory import person_directory
from customer_registry.http.canonical_paths import CanonicalPath
from customer_registry.http.conditional import (
    NOT_MODIFIED_RESPONSE,
    etag,
    not_modified,
    unchanged,
    write_condition,
)
from customer_registry.http.idempotency import HorizonIdempotency, guard
from customer_registry.http.json_body import JsonBody, valid_or_none
from customer_registry.http.plain_routes import FastJSONResponse
from customer_registry.http.problems import problem_responses
from customer_registry.http.public_origin import origin
from customer_registry.runtime import runtime

router = APIRouter(
    route_class=HorizonRoute,
    prefix="/customer/v1/clients/{clientId}",
    tags=["Horizon customers"],
    # Every answer of this router but a 404 shows links: a bad Host is refused before work.
    dependencies=[CanonicalPath, Depends(origin)],
)
DIALECT = "horizon"

CustomerNumber = Annotated[
    CustomerNumberText,
    Path(alias="customerNumber", min_length=1, max_length=100, examples=["customer-person-1"]),
]

VALID_NUMBER = TypeAdapter(CustomerNumber)
CUSTOMER_PATH = "/customer/v1/clients/{clientId}/customers/{customerNumber}"
SEARCH_PATH = "/customer/v1/clients/{clientId}/customers/search"


async def _covered_customer(
    request: Request, store: CustomerStore, caller: BearerClaim
) -> Customer | None:
    """The path's customer, read in the statement that checks the token's coverage.

    A dependency, so that a 401 or 403 comes before the path's own validation, as on every
    route; a number that validation will refuse is not looked up.
    """
    number = valid_or_none(VALID_NUMBER, request.path_params["customerNumber"])
    return await service.read_as(store, caller, number, schemas.SHOWN_SEALED)


CoveredCustomer = Annotated[Customer | None, Depends(_covered_customer)]


async def _writer(request: Request, store: CustomerStore, claim: BearerClaim) -> Caller:
    """The caller of a PUT, with the path's customer read and locked in the statement that
    checks the token's coverage (one round trip instead of two)."""
    number = valid_or_none(VALID_NUMBER, request.path_params["customerNumber"])
    if number is None:  # validation refuses the request before the write
        return await horizon_client(store, claim)
    locked = await service.lock_as(store, claim, number)
    return Caller(claim.client_id, claim.credential_id, locked)


Writer = Annotated[Caller, Depends(_writer)]
WriterIdempotency = Annotated[None, Depends(guard(_writer, request_id_counts=False))]

IfMatch = Annotated[
    str | None, Header(description="Write only if the customer is at one of these ETags")
]
IfNoneMatch = Annotated[
    str | None, Header(description="GET: 304 if unchanged. PUT with *: create only")
]


def representation(request: Request, customer: Customer, status: int = 200) -> JSONResponse:
    body = schemas.from_customer(customer, origin(request))
    headers = {"ETag": etag(customer.version)}
    return FastJSONResponse(body, status_code=status, headers=headers)


def head_of(full: Response) -> Response:
    """The answer to HEAD: the GET's headers, no body."""
    return Response(headers=dict(full.headers))


@router.post(
    "/customers/search",
    response_model=responses.SearchOut,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
)
@reads_only
async def search_customers(
    request: Request,
    store: CustomerStore,
    caller: BearerCaller,
    _json: JsonBody,
    _once: HorizonIdempotency,
    params: Annotated[schemas.SearchParams, Query()],
    body: schemas.SearchIn,
) -> JSONResponse:
    """Search the client's customers by one column, paged and sorted."""
    return await search_page(request, store, caller.client_id, params, body)


async def search_page(
    request: Request,
    store: Store,
    client_id: int,
    params: schemas.SearchParams,
    body: schemas.SearchIn,
) -> JSONResponse:
    """The page a search asks for, as the search route answers it."""
    query = SearchQuery(
        body.searchColumn, body.searchValue, params.page, params.perPage, params.sort, params.order
    )
    result = await service.search(store, client_id, query, schemas.SHOWN_SEALED)
    base_url = origin(request)
    items = [schemas.from_customer(customer, base_url) for customer in result.items]
    return FastJSONResponse({"items": items, "total": result.total})


@router.put(
    "/customers/{customerNumber}",
    responses={
        200: responses.PUT_CUSTOMER,
        **problem_responses(400, 401, 403, 409, 412, 413, 415, 422),
    },
    openapi_extra=responses.PUT_REQUEST,
)
async def put_customer(
    request: Request,
    store: CustomerStore,
    caller: Writer,
    _json: JsonBody,
    _once: WriterIdempotency,
    customer_number: CustomerNumber,
    body: schemas.CustomerIn,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> JSONResponse:
    """Create the customer, or replace its data when the number is already known."""
    return await write(request, store, caller, customer_number, body)


async def write(
    request: Request, store: Store, caller: Caller, number: str, body: schemas.CustomerIn
) -> JSONResponse:
    """The PUT's write and its answer (If-Match and If-None-Match read from the request)."""
    headers = request.headers
    condition = write_condition(headers.get("if-match"), headers.get("if-none-match"))
    written = schemas.to_customer(body, caller.client_id, number)
    audit = caller.audit(DIALECT, request_id(request))
    customer = await service.upsert(store, written, audit, condition, caller.locked)
    return representation(request, customer)


@router.get(
    "/customers/{customerNumber}",
    responses={
        200: responses.GET_CUSTOMER,
        304: NOT_MODIFIED_RESPONSE,
        **problem_responses(400, 401, 403, 404),
    },
)
async def get_customer(
    request: Request,
    caller: BearerClaim,
    customer_number: CustomerNumber,
    stored: CoveredCustomer,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Get the customer with the given number."""
    return read(request, stored, caller.client_id, customer_number)


def read(request: Request, stored: Customer | None, client_id: int, number: str) -> Response:
    """The answer to a GET or HEAD of ``stored`` (If-None-Match read from the request)."""
    customer = service.existing(stored, client_id, number)
    if request.method == "HEAD":
        return head_of(representation(request, customer))
    if not_modified(request.headers.get("if-none-match"), customer.version):
        return unchanged(customer.version)
    return representation(request, customer)


@router.head(
    "/customers/{customerNumber}",
    responses={
        200: responses.HEAD_CUSTOMER,
        **problem_responses(400, 401, 403, 404, body=False),
    },
)
async def check_customer(
    request: Request, caller: BearerClaim, customer_number: CustomerNumber, stored: CoveredCustomer
) -> Response:
    """Check that the customer exists; the headers are those of the GET."""
    return read(request, stored, caller.client_id, customer_number)


@router.post(
    "/lookup/customer",
    responses={
        200: {**responses.CUSTOMER, "description": "Found in the store"},
        201: {**responses.CUSTOMER, "description": "Found in the person directory and created"},
        **problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    openapi_extra=responses.LOOKUP_REQUEST,
)
async def lookup_customer(
    request: Request,
    store: CustomerStore,
    caller: BearerCaller,
    _json: JsonBody,
    _once: HorizonIdempotency,
    body: schemas.LookupIn,
) -> JSONResponse:
    """Find a person by phone or identification number; create them from the directory."""
    customer, created = await service.lookup(
        store,
        caller.client_id,
        body.key(),
        caller.audit(DIALECT, request_id(request)),
        directory=person_directory(runtime(request).settings.person_directory),
        customer_number=body.customerNumber,
        individual_risk_score=body.individualRiskScore,
    )
    return representation(request, customer, 201 if created else 200)

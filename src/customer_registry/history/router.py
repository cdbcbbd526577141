"""The change history of a customer: part of the registry's own API, beyond Riverty's."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from customer_registry.auth.callers import BearerCaller
from customer_registry.customers import service
from customer_registry.db.request import CustomerStore
from customer_registry.history import schemas
from customer_registry.http.canonical_paths import CanonicalPath, CustomerNumberPath
from customer_registry.http.openapi import operation_ids
from customer_registry.http.problems import problem_responses

router = APIRouter(
    prefix="/registry/v1/clients/{clientId}",
    tags=["Registry"],
    dependencies=[CanonicalPath],
    generate_unique_id_function=operation_ids("registry"),
)


@router.get(
    "/customers/{customerNumber}/history",
    responses={
        200: {"model": schemas.HistoryOut, "description": "The history, oldest entry first"},
        **problem_responses(400, 401, 403, 404),
    },
)
async def get_history(
    store: CustomerStore, caller: BearerCaller, customer_number: CustomerNumberPath
) -> JSONResponse:
    """Every change of the customer, oldest first: who, when, and each field's old and new value."""
    entries = await service.history(store, caller.client_id, customer_number)
    return JSONResponse(schemas.from_history(entries))

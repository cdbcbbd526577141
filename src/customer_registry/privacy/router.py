"""A customer's personal data rights over HTTP: its export and its erasure (the registry's
own API, beyond Riverty's)."""

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse

from customer_registry.auth.callers import BearerCaller, request_id
from customer_registry.db.request import CustomerStore
from customer_registry.http.canonical_paths import CanonicalPath, CustomerNumberPath
from customer_registry.http.openapi import operation_ids
from customer_registry.http.problems import problem_responses
from customer_registry.privacy import schemas, service
from customer_registry.runtime import runtime

router = APIRouter(
    prefix="/registry/v1/clients/{clientId}/customers/{customerNumber}",
    tags=["Registry"],
    dependencies=[CanonicalPath],
    generate_unique_id_function=operation_ids("registry"),
)


@router.get(
    "/personal-data",
    responses={
        200: {"model": schemas.PersonalDataOut, "description": "Everything stored about them"},
        **problem_responses(400, 401, 403, 404),
    },
)
async def export_personal_data(
    request: Request,
    store: CustomerStore,
    caller: BearerCaller,
    customer_number: CustomerNumberPath,
) -> JSONResponse:
    """Everything stored about the customer, personal identifiers in clear: the canonical
    record, both APIs' representations, the whole change history, the kept change events and
    earlier accesses. The export itself is recorded as an access."""
    by = f"credential {caller.credential_id}"
    document = await service.export(
        store, caller.client_id, customer_number, by, request_id(request)
    )
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


@router.delete(
    "",
    status_code=204,
    responses={204: {"description": "Erased"}, **problem_responses(400, 401, 403, 404)},
)
async def erase_customer(
    request: Request,
    store: CustomerStore,
    caller: BearerCaller,
    customer_number: CustomerNumberPath,
    background: BackgroundTasks,
) -> Response:
    """Erase the customer for good: its record, the values of its history (tombstones stay),
    the data in its change events, stored answers about it, and its data key (so its sealed
    values in older backups cannot be decrypted once the key file's old keys are retired)."""
    audit = caller.audit("registry", request_id(request))
    await service.erase(store, caller.client_id, customer_number, audit)
    # After the commit (the request's transaction ends before the response is sent).
    background.add_task(runtime(request).database.forget_overwritten)
    return Response(status_code=204)

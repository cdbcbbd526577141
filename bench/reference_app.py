"""The reference servers R-GET and R-PUT: the Horizon read and write, written plainly.

What a competent engineer would write for these two routes without the service's code: one
FastAPI dependency that verifies the bearer JWT (PyJWT, HS256) on every request, an asyncpg
pool made at startup, one primary-key select or one upsert plus a history row in one
transaction, pydantic v2 for the body and orjson for the answer. PostgreSQL only. It signs
nothing: the bench mints the tokens with ``token()`` and the fixed secret below.

Two deliberate gaps against the service, so that the reference does not spoil the rows the
service reads in the same database: ssn and organisation number are validated but not stored
(those columns hold the service's vault ciphertext), and the derived search columns (name
keys, E.164 phone) are not kept.

``python -m bench.reference_app --workers N --port P`` serves it like ``bench.hello_app``.
"""

import argparse
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
import jwt
import orjson
from fastapi import Depends, FastAPI, Header, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from customer_registry.cli import listeners

SECRET = "bench-reference-secret-not-for-production-0123456789"
AUDIENCE = "customer-registry-reference"
DATABASE_URL = "CUSTOMER_REGISTRY_DATABASE_URL"
ROUTE = "/customer/v1/clients/{clientId}/customers/{customerNumber}"

_SELECT = (
    "SELECT customer_number, type, first_name, last_name, company_name, phone_number, email, "
    "street, postal_code, postal_place, country_code "
    "FROM customers WHERE client_id = $1 AND customer_number = $2"
)
_UPSERT = """
INSERT INTO customers (
    client_id, customer_number, version, type, first_name, last_name, company_name,
    phone_number, email, street, care_of, address_line3, postal_code, postal_place,
    country_code, payment_id, internal_number, sign_up_id, created_at, updated_at
) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
ON CONFLICT (client_id, customer_number) DO UPDATE SET
    version = customers.version + 1, type = excluded.type, first_name = excluded.first_name,
    last_name = excluded.last_name, company_name = excluded.company_name,
    phone_number = excluded.phone_number, email = excluded.email, street = excluded.street,
    care_of = excluded.care_of, address_line3 = excluded.address_line3,
    postal_code = excluded.postal_code, postal_place = excluded.postal_place,
    country_code = excluded.country_code, updated_at = excluded.updated_at
RETURNING version
"""
_HISTORY = """
INSERT INTO customer_history (
    client_id, customer_number, version, changed_at, credential_id, request_id, dialect, changes
) VALUES ($1, $2, $3, $4, $5, $6, 'horizon', $7)
"""


def token(client_id: int, *, lifetime: int = 86_400) -> str:
    """A bearer token for one client, as the bench hands it to the load generator."""
    now = int(time.time())
    claims = {
        "sub": f"reference-{client_id}",
        "client_id": client_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ[DATABASE_URL].replace("postgresql+asyncpg://", "postgresql://", 1)
    # The service's ceiling per worker: a pool of 10 plus SQLAlchemy's overflow of 10.
    async with asyncpg.create_pool(dsn, min_size=10, max_size=20) as pool:
        app.state.pool = pool
        yield


app = FastAPI(lifespan=lifespan)


async def authorize(
    client_id: Annotated[int, Path(alias="clientId")],
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The token's claims, once its signature, audience and expiry hold and it names the
    path's client. Checked on every request: nothing is cached."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        raise HTTPException(401, "bearer token required")
    try:
        claims: dict[str, Any] = jwt.decode(
            credentials,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"require": ["sub", "client_id", "exp", "iat"]},
        )
    except jwt.InvalidTokenError as error:
        raise HTTPException(401, "invalid token") from error
    if claims["client_id"] != client_id:
        raise HTTPException(403, "the token does not cover this client")
    return claims


Claims = Annotated[dict[str, Any], Depends(authorize)]
CustomerNumber = Annotated[str, Path(alias="customerNumber", min_length=1, max_length=100)]


def _json(document: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(document), status, media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get(ROUTE)
async def get_customer(
    request: Request, claims: Claims, customer_number: CustomerNumber
) -> Response:
    row = await request.app.state.pool.fetchrow(_SELECT, claims["client_id"], customer_number)
    if row is None:
        raise HTTPException(404, "customer not found")
    return _json(
        {
            "customerNumber": row["customer_number"],
            "type": row["type"],
            "person": {"firstName": row["first_name"], "lastName": row["last_name"]},
            "company": {"name": row["company_name"]},
            "phoneNumber": row["phone_number"],
            "email": row["email"],
            "address": {
                "addressLine": row["street"],
                "postalCode": row["postal_code"],
                "postalPlace": row["postal_place"],
                "countryCode": row["country_code"],
            },
        }
    )


class PersonIn(BaseModel):
    ssn: str | None = Field(None, max_length=20)
    firstName: str | None = Field(None, max_length=50)
    lastName: str | None = Field(None, max_length=50)


class CompanyIn(BaseModel):
    name: str | None = Field(None, max_length=140)
    organizationNumber: str | None = Field(None, max_length=20)


class AddressIn(BaseModel):
    addressLine: str = Field(min_length=1, max_length=100)
    addressLine2: str | None = Field(None, max_length=100)
    addressLine3: str | None = Field(None, max_length=100)
    postalCode: str = Field(min_length=1, max_length=10)
    postalPlace: str = Field(min_length=1, max_length=100)
    countryCode: str = Field(pattern=r"^[A-Z]{2}$")


class CustomerIn(BaseModel):
    type: Literal["Person", "Company"]
    person: PersonIn | None = None
    company: CompanyIn | None = None
    phoneNumber: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=255)
    address: AddressIn


# Validated, not stored: in this schema those columns hold the vault's ciphertext.
_NOT_STORED: Any = {"person": {"ssn"}, "company": {"organizationNumber"}}


@app.put(ROUTE)
async def put_customer(
    request: Request, claims: Claims, customer_number: CustomerNumber, body: CustomerIn
) -> Response:
    person, company, address = body.person or PersonIn(), body.company or CompanyIn(), body.address
    client_id, now = claims["client_id"], datetime.now(UTC)
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        version = await conn.fetchval(
            _UPSERT,
            client_id,
            customer_number,
            body.type,
            person.firstName,
            person.lastName,
            company.name,
            body.phoneNumber,
            body.email,
            address.addressLine,
            address.addressLine2,
            address.addressLine3,
            address.postalCode,
            address.postalPlace,
            address.countryCode,
            secrets.token_hex(10),  # payment id, internal number, sign-up id: new rows only
            f"{secrets.randbelow(10**9):09d}",
            secrets.randbelow(2**62),
            now,
        )
        document = {
            "customerNumber": customer_number,
            **body.model_dump(exclude_none=True, exclude=_NOT_STORED),
        }
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        changes = json.dumps(document)
        await conn.execute(
            _HISTORY, client_id, customer_number, version, now, claims["sub"], request_id, changes
        )
    return _json({**document, "version": version})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    listeners.run(
        "bench.reference_app:app",
        workers=args.workers,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )

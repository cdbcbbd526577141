"""The customer layer on the migrated database: transactions of the test app, a second
database handle for races, and canonical customers to write."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from customer_registry.customers import changes
from customer_registry.customers.model import IDENTITY_FIELDS, Audit, Customer, CustomerWrite
from customer_registry.db import Database, Store, open_database

AUDIT = Audit("horizon", None, "test-request")
# Every data field: a write of the canonical record as a whole.
OWNED = frozenset(changes.DATA_FIELDS) - IDENTITY_FIELDS


def person(client_id: int, number: str, **values: Any) -> Customer:
    """A Person with the fields both dialects require, ``values`` replaced."""
    fields: dict[str, Any] = {
        "first_name": "Ada", "last_name": "Lovelace", "street": "Storgata", "postal_code": "0155",
        "postal_place": "Oslo", "country_code": "NO",
    }  # fmt: skip
    return Customer(client_id=client_id, customer_number=number, type="Person", **fields | values)


def full_person(client_id: int, number: str) -> Customer:
    """A Person with every field set, personal data included."""
    return person(
        client_id, number, ssn="02016126007", organization_number="123456785",
        tax_identification_number="TIN-55-0042", birth_date=date(1961, 1, 2),
        phone_number="22 33 44 55", mobile_phone="+4791234567", email="ada@example.no",
        street_number="5", street_number_additional="A", care_of="c/o Byron",
        address_line3="Floor 3", existing_customer=True, individual_risk_score="7",
        salutation="MS", language="NB", company_name="Analytical Engines AS",
        payment_registration_id="reg-1", psp_customer_id="psp-c", psp_payment_method_id="psp-m",
    )  # fmt: skip


def write(customer: Customer) -> CustomerWrite:
    return CustomerWrite(customer, OWNED)


@asynccontextmanager
async def transaction(database: Database, app: FastAPI) -> AsyncIterator[Store]:
    """A transaction on ``database`` with the app's vault: committed unless the block raises."""
    async with database.transaction() as conn:
        yield Store(conn, app.state.runtime.vault)


def store_of(app: FastAPI) -> AbstractAsyncContextManager[Store]:
    """A transaction of the app's own database (``transaction``)."""
    return transaction(app.state.runtime.database, app)


@pytest.fixture
async def other_database(app: FastAPI) -> AsyncIterator[Database]:
    """A second handle on the app's database, as another process has: its transactions race
    the app's (SQLite: its writer waits for the app's; PostgreSQL: a pool of its own)."""
    database = open_database(app.state.runtime.settings)
    yield database
    await database.close()


async def waiting_statement(database_url: str, task: "asyncio.Task[Any]") -> str | None:
    """Once ``task`` waits for another transaction: the statement it waits in (PostgreSQL,
    from pg_stat_activity), None on SQLite (its writer retries BEGIN until the database is
    free). Fails if the task finishes instead."""
    if database_url.startswith("sqlite"):
        await asyncio.sleep(0.05)
        assert not task.done(), "the second writer went on while the first held the database"
        return None
    url = make_url(database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database,
    )  # fmt: skip
    try:
        for _ in range(1000):
            assert not task.done(), "the second transaction did not wait for the first"
            query = await conn.fetchval(
                "SELECT query FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if query is not None:
                return str(query)
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    pytest.fail("the second transaction never waited for the first")

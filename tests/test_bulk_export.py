"""``export``, and exports imported again: the round trips reproduce what the API answers."""

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from customer_registry.app import create_app
from customer_registry.bulk.subscriptions_records import CSV_COLUMNS as SUBSCRIPTIONS_COLUMNS
from customer_registry.config import Settings
from tests.conftest import ALLOWED_HOSTS, BASE_URL, create_credential, token_for
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post
from tests.test_bulk import import_file, run_cli, second_client, write_rows

COMPANY = {
    "type": "Company",
    "company": {"name": "ACME GmbH", "organizationNumber": "HRB 1234"},
    "address": {"addressLine": "Hauptstr. 5", "postalCode": "10115", "postalPlace": "Berlin",
                "countryCode": "DE"},
}  # fmt: skip
NUMBERS = ("h1", "h2", "s1", "m1")


async def write_through_the_api(http: httpx.AsyncClient, client_id: int) -> None:
    """Customers of every kind: Horizon person and company, Subscriptions, and both at once."""
    h1 = person(existingCustomer=True, individualRiskScore="low")
    h1["address"] = {**h1["address"], "addressLine2": "c/o Kari", "addressLine3": "3rd floor"}
    assert (await http.put(customer_url(client_id, "h1"), json=h1)).status_code == 200
    assert (await http.put(customer_url(client_id, "h2"), json=COMPANY)).status_code == 200
    for number in ("s1", "m1"):
        posted = await http.post(CUSTOMERS, json=seed_post(customerNumber=number))
        assert posted.status_code in (200, 201), posted.text
    assert (await http.put(customer_url(client_id, "m1"), json=person())).status_code == 200


async def answers(
    http: httpx.AsyncClient, client_id: int, number: str, headers: dict[str, str] | None = None
) -> list[Any]:
    """Everything both APIs tell about the customer, but the client id in the links."""
    horizon = (await http.get(customer_url(client_id, number), headers=headers)).json()
    horizon["_links"] = [link["rel"] for link in horizon["_links"]]
    subscriptions = (await http.get(f"{CUSTOMERS}/{number}", headers=headers)).json()
    if number != "s1":
        return [horizon, subscriptions]
    # The same body again changes nothing and answers with the generated ids.
    put = await http.put(f"{CUSTOMERS}/s1", json=seed_post(customerNumber="s1"), headers=headers)
    return [horizon, subscriptions, put.json()]


@pytest.fixture
async def empty_app(empty_database: str, key_file: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(database_url=empty_database, key_file=key_file, allowed_hosts=ALLOWED_HOSTS)
    application = create_app(settings)
    yield application
    await application.state.runtime.database.close()


async def test_registry_export_imported_into_an_empty_database_answers_the_same(
    env: dict[str, str], both: httpx.AsyncClient, client_id: int, tmp_path: Path,
    empty_database: str, empty_app: FastAPI,
) -> None:  # fmt: skip
    await write_through_the_api(both, client_id)
    exported = tmp_path / "export.jsonl"
    await run_cli(env, "export", "--client-id", str(client_id), "--output", str(exported))
    before = [await answers(both, client_id, number) for number in NUMBERS]

    empty = {**env, "CUSTOMER_REGISTRY_DATABASE_URL": empty_database}
    result, report = await import_file(empty, exported, client_id)

    assert result.exit_code == 0, result.output
    assert [row["outcome"] for row in report] == ["created"] * len(NUMBERS)
    issued = await create_credential(empty_app, client_id)
    transport = httpx.ASGITransport(app=empty_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        headers = {"Authorization": f"Bearer {await token_for(http, issued)}",
                   "X-Subscription-Key": issued.subscription_key}  # fmt: skip
        after = [await answers(http, client_id, number, headers) for number in NUMBERS]
    assert after == before


async def test_csv_export_imports_into_another_client_unchanged(
    env: dict[str, str], app: FastAPI, both: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    await write_through_the_api(both, client_id)
    exported = tmp_path / "export.csv"
    await run_cli(env, "export", "--client-id", str(client_id), "--format", "csv",
                  "--output", str(exported))  # fmt: skip
    other, headers = await second_client(app, both)

    result, _ = await import_file(env, exported, other)

    assert result.exit_code == 0, result.output
    for number in NUMBERS:
        theirs = await answers(both, other, number, headers)
        assert theirs == await answers(both, client_id, number)


@pytest.mark.parametrize("dialect", ["horizon", "subscriptions"])
async def test_dialect_export_imports_as_that_dialect_would_write_it(
    env: dict[str, str], app: FastAPI, both: httpx.AsyncClient, client_id: int, tmp_path: Path,
    dialect: str,
) -> None:  # fmt: skip
    await write_through_the_api(both, client_id)
    exported = tmp_path / f"{dialect}.jsonl"
    args = ["export", "--client-id", str(client_id), "--dialect", dialect]
    await run_cli(env, *args, "--output", str(exported))
    other, headers = await second_client(app, both)

    _, report = await import_file(env, exported, other, "--dialect", dialect)

    # Only customers written through Subscriptions have the payment registration it requires.
    accepted = NUMBERS if dialect == "horizon" else ("s1", "m1")
    assert [row["customerNumber"] for row in report if row["outcome"] == "created"] == sorted(
        accepted
    )
    for number in accepted:
        url = customer_url if dialect == "horizon" else lambda _, n: f"{CUSTOMERS}/{n}"
        mine = (await both.get(url(client_id, number))).json()
        theirs = (await both.get(url(other, number), headers=headers)).json()
        for body in (mine, theirs):
            body.pop("_links", None)
            body.pop("paymentMeans", None)
        assert theirs == mine


async def test_subscriptions_csv_has_the_documented_columns(
    env: dict[str, str], both: httpx.AsyncClient, client_id: int
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    args = ["export", "--client-id", str(client_id), "--dialect", "subscriptions"]

    result = await run_cli(env, *args, "--format", "csv")

    header, row = list(csv.reader(result.stdout.splitlines()))
    assert tuple(header) == SUBSCRIPTIONS_COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert cells["customer.address.street"] == "Bergnaum Mountains"
    assert cells["customer.address.careOf"] == ""
    assert cells["paymentRegistration.id"] == "275122"


def generated_row(index: int) -> dict[str, Any]:
    return {
        "customerNumber": f"n{index:08d}", "type": "Person", "firstName": f"First{index}",
        "lastName": "Last", "email": f"p{index}@example.com", "phoneNumber": f"+4791{index:06d}",
        "street": f"Street {index}", "postalCode": "0150", "postalPlace": "Oslo",
        "countryCode": "NO", "birthDate": "1980-02-03",
    }  # fmt: skip


async def test_twenty_thousand_rows_import_and_export_in_number_order(
    env: dict[str, str], client_id: int, tmp_path: Path
) -> None:
    count = 20_000
    rows = [generated_row(index) for index in reversed(range(count))]
    path = write_rows(tmp_path / "many.jsonl", rows)

    result, report = await import_file(env, path, client_id)
    exported = await run_cli(env, "export", "--client-id", str(client_id))

    assert result.exit_code == 0, result.output
    assert {row["outcome"] for row in report} == {"created"}
    assert len(report) == count
    numbers = [json.loads(line)["customerNumber"] for line in exported.stdout.splitlines()]
    assert numbers == sorted(row["customerNumber"] for row in rows)
    assert f"exported {count} customers" in exported.output


async def test_csv_export_of_a_client_without_customers_is_its_header(env: dict[str, str]) -> None:
    result = await run_cli(env, "export", "--client-id", "424242", "--format", "csv")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("customerNumber,type,")
    assert len(result.stdout.splitlines()) == 1


async def test_writes_go_on_while_an_export_reads(
    app: FastAPI, horizon: httpx.AsyncClient, client_id: int
) -> None:
    async with app.state.runtime.database.snapshot() as export:  # what `export` reads in
        await export.fetch(text("SELECT count(*) FROM customers"))
        response = await horizon.put(customer_url(client_id, "c1"), json=person())

    assert response.status_code == 200

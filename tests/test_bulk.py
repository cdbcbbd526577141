"""``import``: rows checked as the API checks them, written as the API writes them."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from typer.testing import CliRunner, Result

from customer_registry.cli import app as cli
from tests.conftest import create_credential, new_client_id, token_for
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post
from tests.test_history import history_url

runner = CliRunner()


def write_rows(path: Path, rows: list[Any]) -> Path:
    lines = (row if isinstance(row, str) else json.dumps(row) for row in rows)
    path.write_text("".join(line + "\n" for line in lines))
    return path


async def run_cli(env: dict[str, str], *args: str) -> Result:
    # The CLI runs its own event loop, so it cannot run on the test's.
    return await asyncio.to_thread(runner.invoke, cli, list(args), env=env)


async def import_file(
    env: dict[str, str], path: Path, client_id: int, *options: str
) -> tuple[Result, list[dict[str, Any]]]:
    report = path.with_suffix(".report")
    args = ["import", str(path), "--client-id", str(client_id), "--report", str(report), *options]
    result = await run_cli(env, *args)
    lines = report.read_text().splitlines() if report.exists() else []
    return result, [json.loads(line) for line in lines]


def horizon_row(number: str, **changes: Any) -> dict[str, Any]:
    return {**person(**changes), "customerNumber": number}


async def test_bad_rows_are_reported_and_only_good_rows_are_written(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    no_name = horizon_row("h2", person={"lastName": "Customer"})
    bad_country = horizon_row("h3", address={**person()["address"], "countryCode": "XX"})
    rows = [horizon_row("h1"), "{not json", no_name, bad_country, horizon_row("h4")]
    path = write_rows(tmp_path / "rows.jsonl", rows)

    result, report = await import_file(env, path, client_id, "--dialect", "horizon")

    assert result.exit_code == 1, result.output
    assert [(r["line"], r["customerNumber"], r["outcome"]) for r in report] == [
        (1, "h1", "created"), (2, None, "rejected"), (3, "h2", "rejected"),
        (4, "h3", "rejected"), (5, "h4", "created"),
    ]  # fmt: skip
    assert report[1]["reasons"][0]["name"] == "body"
    for line, number, body in ((3, "h2", no_name), (4, "h3", bad_country)):
        api = await horizon.put(customer_url(client_id, number), json=body)
        assert api.json()["invalidParameters"] == report[line - 1]["reasons"]
    assert (await horizon.get(customer_url(client_id, "h4"))).status_code == 200
    assert "2 created, 0 updated, 0 unchanged, 3 rejected" in result.output


async def test_reimporting_the_same_file_changes_nothing(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "rows.jsonl", [horizon_row("h1"), horizon_row("h2")])
    await import_file(env, path, client_id, "--dialect", "horizon")

    result, report = await import_file(env, path, client_id, "--dialect", "horizon")

    assert result.exit_code == 0, result.output
    assert [r["outcome"] for r in report] == ["unchanged", "unchanged"]
    response = await horizon.get(customer_url(client_id, "h1"))
    assert response.headers["ETag"] == '"1"'
    assert len((await horizon.get(history_url(client_id, "h1"))).json()["items"]) == 1


async def test_a_customer_named_twice_is_created_then_updated(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    rows = [horizon_row("h1"), horizon_row("h1", email="new@mail.com")]
    path = write_rows(tmp_path / "twice.jsonl", rows)

    _, report = await import_file(env, path, client_id, "--dialect", "horizon")

    assert [r["outcome"] for r in report] == ["created", "updated"]
    history = (await horizon.get(history_url(client_id, "h1"))).json()["items"]
    assert [(e["version"], e["dialect"], e["requestId"]) for e in history] == [
        (1, "import", "import:twice.jsonl:1"), (2, "import", "import:twice.jsonl:2"),
    ]  # fmt: skip
    assert history[1]["changes"] == [
        {"field": "email", "old": "tom.customer@mail.com", "new": "new@mail.com"}
    ]


async def test_updates_in_one_batch_change_their_own_fields_and_stay_searchable(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "rows.jsonl", [horizon_row("h1"), horizon_row("h2")])
    await import_file(env, path, client_id, "--dialect", "horizon")
    renamed = {"ssn": "02016126007", "firstName": "Tom", "lastName": "Zephyr"}
    changes = [horizon_row("h1", email="new@mail.com"), horizon_row("h2", person=renamed)]

    _, report = await import_file(env, write_rows(path, changes), client_id, "--dialect", "horizon")

    assert [r["outcome"] for r in report] == ["updated", "updated"]
    h1 = (await horizon.get(customer_url(client_id, "h1"))).json()
    assert (h1["email"], h1["person"]["lastName"]) == ("new@mail.com", "Customer")
    body = {"searchValue": "zeph", "searchColumn": "name"}
    found = await horizon.post(f"/customer/v1/clients/{client_id}/customers/search", json=body)
    assert [item["customerNumber"] for item in found.json()["items"]] == ["h2"]
    history = (await horizon.get(history_url(client_id, "h2"))).json()["items"]
    assert history[-1]["changes"] == [{"field": "lastName", "old": "Customer", "new": "Zephyr"}]


async def second_client(app: FastAPI, http: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    """Another client with a credential: its id and the headers of both dialects."""
    other = new_client_id()
    issued = await create_credential(app, other)
    token = await token_for(http, issued)
    return other, {
        "Authorization": f"Bearer {token}",
        "X-Subscription-Key": issued.subscription_key,
    }


async def read_both(
    http: httpx.AsyncClient, client_id: int, number: str, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The customer's GET bodies in both dialects, without what tells clients apart."""
    horizon = (await http.get(customer_url(client_id, number), headers=headers)).json()
    subscriptions = (await http.get(f"{CUSTOMERS}/{number}", headers=headers)).json()
    horizon.pop("_links")
    horizon.pop("paymentMeans")
    return horizon, subscriptions


async def test_imported_customers_read_as_if_written_through_the_api(
    env: dict[str, str], app: FastAPI, both: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    company = {"type": "Company", "company": {"name": "ACME AS"}, "address": person()["address"]}
    subscription = seed_post(customerNumber="s1", companyName="")
    other, headers = await second_client(app, both)
    await both.put(customer_url(other, "h1"), json=person(), headers=headers)
    await both.put(customer_url(other, "h2"), json=company, headers=headers)
    await both.post(CUSTOMERS, json=subscription, headers=headers)
    horizon_rows = [horizon_row("h1"), {**company, "customerNumber": "h2"}]

    await import_file(env, write_rows(tmp_path / "h.jsonl", horizon_rows), client_id,
                      "--dialect", "horizon")  # fmt: skip
    await import_file(env, write_rows(tmp_path / "s.jsonl", [subscription]), client_id,
                      "--dialect", "subscriptions")  # fmt: skip

    for number in ("h1", "h2", "s1"):
        assert await read_both(both, client_id, number) == await read_both(
            both, other, number, headers
        )


async def test_registry_rows_bring_their_identifiers_to_new_customers_only(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    base = {"type": "Company", "companyName": "ACME", "street": "Road 1", "postalCode": "1",
            "postalPlace": "Oslo", "countryCode": "NO"}  # fmt: skip
    ids = {"paymentId": "123456789012345678906", "internalNumber": "123456789"}
    rows = [
        {**base, "customerNumber": "r1", **ids, "signUpId": 987654321},
        {**base, "customerNumber": "r2", "paymentId": ids["paymentId"]},
        {**base, "customerNumber": "r3", "paymentId": "123456789012345678901"},
    ]
    path = write_rows(tmp_path / "registry.jsonl", rows)

    _, report = await import_file(env, path, client_id)
    write_rows(path, [{**base, "customerNumber": "r1", "paymentId": "100000000000000000009"}])
    _, again = await import_file(env, path, client_id)

    assert [r["outcome"] for r in report] == ["created", "rejected", "rejected"]
    assert report[1]["reasons"] == [
        {"name": "paymentId", "reason": "already used by customer 'r1'"}
    ]
    assert report[2]["reasons"][0]["name"] == "paymentId"
    assert again[0]["outcome"] == "unchanged"
    body = (await horizon.get(customer_url(client_id, "r1"))).json()
    assert body["paymentMeans"] == {"paymentId": ids["paymentId"]}


@pytest.fixture
async def poisoned(app: FastAPI, client_id: int) -> AsyncIterator[str]:
    """A customer number the database itself refuses to insert for this test's client."""
    async with app.state.runtime.database.transaction() as conn:
        if conn.dialect == "postgresql":
            await conn.execute(text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'poison'; END $$"
            ))  # fmt: skip
            body = "EXECUTE FUNCTION refuse_poison()"
        else:
            body = "BEGIN SELECT RAISE(ABORT, 'poison'); END"
        await conn.execute(text(
            f"CREATE TRIGGER poison BEFORE INSERT ON customers FOR EACH ROW WHEN "
            f"(NEW.client_id = {client_id} AND NEW.customer_number = 'poison') {body}"
        ))  # fmt: skip
    yield "poison"
    async with app.state.runtime.database.transaction() as conn:
        await conn.execute(text("DROP TRIGGER poison" + (
            " ON customers" if conn.dialect == "postgresql" else ""
        )))  # fmt: skip
        if conn.dialect == "postgresql":
            await conn.execute(text("DROP FUNCTION refuse_poison()"))


async def test_a_database_error_rejects_only_its_row(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path, poisoned: str
) -> None:
    rows = [horizon_row("h1"), horizon_row(poisoned), horizon_row("h2")]
    path = write_rows(tmp_path / "rows.jsonl", rows)

    result, report = await import_file(env, path, client_id, "--dialect", "horizon")

    assert result.exit_code == 1
    assert [r["outcome"] for r in report] == ["created", "rejected", "created"]
    assert "poison" in report[1]["reasons"][0]["reason"]
    assert (await horizon.get(customer_url(client_id, poisoned))).status_code == 404
    assert (await horizon.get(history_url(client_id, poisoned))).status_code == 404
    assert (await horizon.get(customer_url(client_id, "h2"))).status_code == 200


async def test_an_import_shared_by_two_processes_reports_every_row_in_file_order(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    numbers = [f"h{n}" for n in range(1, 9)]  # enough customers for both processes' shares
    rows: list[Any] = [horizon_row(n) for n in numbers]
    bad_country = horizon_row("h9", address={**person()["address"], "countryCode": "XX"})
    rows[3:3] = ["{not json", horizon_row("h1", email="new@mail.com"), bad_country]
    path = write_rows(tmp_path / "rows.jsonl", rows)

    result, report = await import_file(env, path, client_id, "--dialect", "horizon", "--jobs", "2")

    assert result.exit_code == 1, result.output
    assert [(r["line"], r["customerNumber"], r["outcome"]) for r in report] == [
        (1, "h1", "created"), (2, "h2", "created"), (3, "h3", "created"),
        (4, None, "rejected"), (5, "h1", "updated"), (6, "h9", "rejected"),
        *((line, n, "created") for line, n in enumerate(numbers[3:], 7)),
    ]  # fmt: skip
    assert "8 created, 1 updated, 0 unchanged, 2 rejected" in result.output
    assert (await horizon.get(customer_url(client_id, "h1"))).json()["email"] == "new@mail.com"
    assert list(tmp_path.glob("*.partial")) == []


async def test_a_shared_import_of_a_contradictory_csv_header_exits_with_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    header = tmp_path / "bad.csv"
    header.write_text("customerNumber,address,address.street\n")

    result = await run_cli(env, "import", str(header), "--client-id", "1", "--jobs", "2")

    assert result.exit_code == 2
    assert "inside another column" in result.output


async def test_usage_errors_exit_with_2(env: dict[str, str], tmp_path: Path) -> None:
    path = write_rows(tmp_path / "rows.jsonl", [horizon_row("h1")])
    header = tmp_path / "bad.csv"
    header.write_text("customerNumber,address,address.street\n")

    missing = await run_cli(env, "import", str(tmp_path / "none.jsonl"), "--client-id", "1")
    unknown = await run_cli(env, "import", str(path), "--client-id", "1", "--format", "xml")
    contradiction = await run_cli(env, "import", str(header), "--client-id", "1")

    assert (missing.exit_code, unknown.exit_code, contradiction.exit_code) == (2, 2, 2)
    assert "inside another column" in contradiction.output


def test_import_as_a_process_prints_a_summary(env: dict[str, str], tmp_path: Path) -> None:
    path = write_rows(tmp_path / "rows.jsonl", [horizon_row("p1"), "[]"])
    command = [sys.executable, "-m", "customer_registry", "import", str(path),
               "--client-id", str(new_client_id()), "--dialect", "horizon"]  # fmt: skip

    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1, result.stderr
    assert "imported 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected" in result.stderr
    assert "rows/s" in result.stderr


async def test_a_row_bringing_an_identifier_another_customer_holds_is_rejected_alone(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    base = {"type": "Company", "companyName": "ACME", "street": "Road 1", "postalCode": "1",
            "postalPlace": "Oslo", "countryCode": "NO"}  # fmt: skip
    first = write_rows(tmp_path / "first.jsonl", [{**base, "customerNumber": "r1",
                                                   "internalNumber": "123456789"}])  # fmt: skip
    await import_file(env, first, client_id)
    rows = [{**base, "customerNumber": "r2", "internalNumber": "123456789"},
            {**base, "customerNumber": "r3"}]  # fmt: skip

    _, report = await import_file(env, write_rows(tmp_path / "second.jsonl", rows), client_id)

    assert [r["outcome"] for r in report] == ["rejected", "created"]
    assert report[0]["reasons"] == [
        {"name": "internalNumber", "reason": "already used by customer 'r1'"}
    ]
    assert (await horizon.get(customer_url(client_id, "r2"))).status_code == 404


def test_an_import_as_a_process_shares_its_rows_with_a_second_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    numbers = [f"p{n}" for n in range(1, 41)]
    rows: list[Any] = [horizon_row(number) for number in numbers]
    rows[5:5] = ["[]", horizon_row("p1", email="new@mail.com")]
    path, report = write_rows(tmp_path / "rows.jsonl", rows), tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "customer_registry", "import", str(path),
               "--client-id", str(new_client_id()), "--dialect", "horizon", "--jobs", "2",
               "--report", str(report)]  # fmt: skip

    result = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1, result.stderr
    assert "imported 42 rows: 40 created, 1 updated, 0 unchanged, 1 rejected" in result.stderr
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["line"] for line in lines] == list(range(1, 43))
    assert [line["outcome"] for line in lines][5:7] == ["rejected", "updated"]
    assert list(tmp_path.glob("*.partial")) == []

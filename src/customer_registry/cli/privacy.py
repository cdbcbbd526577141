"""``personal-data export | erase | erasures``: a data subject's rights (GDPR Art. 15, 17, 20)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from customer_registry.cli.app import (
    ClientId,
    app,
    checked_vault,
    console,
    fail,
    in_store,
    on_database,
    private_file,
    settings,
)
from customer_registry.cli.output import AsJson, print_json, print_table, utc

if TYPE_CHECKING:
    from customer_registry.db import Database

personal_app = typer.Typer(
    no_args_is_help=True,
    help="A customer's personal data: export everything about them, or erase it for good.",
)
app.add_typer(personal_app, name="personal-data")
CustomerNumber = Annotated[str, typer.Option("--customer-number")]
_BY = "command line"


@personal_app.command("export")
def export(
    client_id: ClientId,
    customer_number: CustomerNumber,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file (mode 0600).")
    ] = None,
) -> None:
    """Print (or write) everything stored about a customer as JSON, identifiers in clear:
    the answer to a subject access or portability request. Recorded as an access."""
    from customer_registry.customers.errors import CustomerNotFound
    from customer_registry.privacy import service

    try:
        document = in_store(
            settings(), lambda store: service.export(store, client_id, customer_number, _BY, None)
        )
    except CustomerNotFound as exc:
        raise fail(exc.message) from exc
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is None:
        typer.echo(text)
        return
    with private_file(output) as file:
        file.write(text + "\n")
    console.print(f"Wrote the personal data of {customer_number} to {output}.")


def _numbers(customer_number: str | None, file: Path | None) -> list[str]:
    if (customer_number is None) == (file is None):
        raise fail("give either --customer-number or --file", 2)
    if file is None:
        return [str(customer_number)]
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", 2) from exc
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@personal_app.command("erase")
def erase(
    client_id: ClientId,
    customer_number: Annotated[str | None, typer.Option("--customer-number")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Customer numbers, one per line.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be erased.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Erase customers for good (see docs/privacy.md): each in a transaction of its own, so
    that a run stopped halfway can simply be run again; a customer erased already is
    reported as not found."""
    numbers = _numbers(customer_number, file)
    current = settings()

    async def run(database: Database) -> list[dict[str, Any]]:
        vault = await checked_vault(database, current)
        report = [await _erase_one(database, vault, client_id, n, dry_run) for n in numbers]
        if not dry_run:
            await database.forget_overwritten()
        return report

    report = on_database(current, run)
    _print_report(report, as_json)
    if customer_number is not None and report[0]["outcome"] == "not found":
        raise typer.Exit(1)


async def _erase_one(
    database: Database, vault: Any, client_id: int, number: str, dry_run: bool
) -> dict[str, Any]:
    from customer_registry.customers.errors import CustomerNotFound
    from customer_registry.customers.model import Audit
    from customer_registry.db import Store
    from customer_registry.privacy import service

    try:
        async with database.transaction() as conn:
            store = Store(conn, vault)
            if dry_run:
                erasure = await service.planned_erasure(store, client_id, number)
            else:
                erasure = await service.erase(store, client_id, number, Audit("registry"))
    except CustomerNotFound:
        return {"customerNumber": number, "outcome": "not found"}
    return _reported(erasure, "would be erased" if dry_run else "erased")


def _reported(erasure: Any, outcome: str) -> dict[str, Any]:
    from customer_registry.customers.outbox import camel

    return {
        "customerNumber": erasure.customer_number,
        "outcome": outcome,
        "fields": [camel(name) for name in erasure.fields],
        "historyEntries": erasure.history_entries,
        "events": erasure.events,
        "storedAnswers": erasure.stored_answers,
        "reveals": erasure.reveals,
    }


def _print_report(report: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json({"items": report})
        return
    columns = ("customerNumber", "outcome", "fields", "historyEntries", "events", "storedAnswers")
    rows = [
        tuple(
            ", ".join(item[c]) if isinstance(item.get(c), list) else str(item.get(c, ""))
            for c in columns
        )
        for item in report
    ]
    print_table(columns, rows)


@personal_app.command("erasures")
def erasures(
    client_id: ClientId,
    customer_number: Annotated[str | None, typer.Option("--customer-number")] = None,
    as_json: AsJson = False,
) -> None:
    """List the client's erasures: when, by whom, and the tombstones of each erased
    customer's history (which fields changed when, and who changed them; no values)."""
    from customer_registry.privacy import service

    rows = in_store(settings(), lambda store: service.erasures(store, client_id, customer_number))
    items = [_erasure(row) for row in rows]
    if as_json:
        print_json({"items": items})
        return
    columns = ("customerNumber", "erasedAt", "source", "requestId", "lastVersion")
    print_table(columns, [tuple(str(item[c] or "") for c in columns) for item in items])


def _erasure(row: Any) -> dict[str, Any]:
    return {
        "customerNumber": row["customer_number"],
        "erasedAt": utc(row["erased_at"]),
        "source": row["source"],
        "credentialId": row["credential_id"],
        "requestId": row["request_id"],
        "lastVersion": row["last_version"],
        **json.loads(row["tombstones"]),  # "history" and "accesses"
    }

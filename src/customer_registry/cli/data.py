"""``history`` and ``keys rotate``."""

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from customer_registry.auth import MAX_CLIENT_ID
from customer_registry.cli.app import app, console, in_store, settings
from customer_registry.config import Settings
from customer_registry.customers import service
from customer_registry.customers.errors import CustomerNotFound
from customer_registry.customers.model import HistoryEntry
from customer_registry.db import Database, Store, open_database
from customer_registry.vault import Vault

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for personal data.")
app.add_typer(keys_app, name="keys")
_BATCH = 500


@app.command()
def history(
    client_id: Annotated[int, typer.Option("--client-id", min=1, max=MAX_CLIENT_ID)],
    customer_number: Annotated[str, typer.Option("--customer-number")],
) -> None:
    """Print every change of a customer: who, when, and each field's old and new value."""

    async def read(store: Store) -> list[HistoryEntry]:
        return await service.history(store, client_id, customer_number)

    try:
        entries = in_store(settings(), read)
    except CustomerNotFound as exc:
        raise typer.Exit(_report(exc.message)) from exc
    table = Table(
        "version", "changed at", "dialect", "credential", "request", "field", "old", "new"
    )
    for entry in entries:
        for index, change in enumerate(entry.changes):
            head = (
                (str(entry.version), f"{entry.changed_at:%Y-%m-%d %H:%M:%S}", entry.audit.dialect,
                 entry.audit.credential_id or "", entry.audit.request_id or "")
                if index == 0
                else ("",) * 5
            )  # fmt: skip
            table.add_row(*head, change.field, _shown(change.old), _shown(change.new))
    console.print(table)


def _shown(value: object) -> str:
    return "" if value is None else str(value)


def _report(message: str) -> int:
    console.print(f"[red]error:[/] {message}")
    return 1


@keys_app.command("rotate")
def rotate_keys(
    resume: Annotated[
        bool, typer.Option("--resume", help="Only re-encrypt: finish an interrupted rotation.")
    ] = False,
) -> None:
    """Make a new key current and re-encrypt all personal data with it, in batches.

    The service keeps running: every process reads the new key file on its next write, and
    old values stay readable until they are re-encrypted.
    """
    current = settings()
    if not resume:
        kid = Vault.open(current.key_file).rotate()
        console.print(f"New current key {kid} in {current.key_file}.")
    customers_done, history_done = asyncio.run(_reseal_all(current))
    console.print(f"Re-encrypted {customers_done} customers and {history_done} history entries.")


async def _reseal_all(current: Settings) -> tuple[int, int]:
    """Re-encrypt in batches of their own transactions: no long lock on a live database."""
    database, vault = open_database(current), Vault.open(current.key_file)
    try:
        customers_done = await _batches(database, vault, service.reseal_customers)
        history_done = await _batches(database, vault, service.reseal_history)
    finally:
        await database.close()
    return customers_done, history_done


async def _batches(database: Database, vault: Vault, reseal: service.Reseal) -> int:
    total, after = 0, None
    while True:
        async with database.transaction() as conn:
            changed, after = await reseal(Store(conn, vault), after, _BATCH)
        total += changed
        if after is None:
            return total

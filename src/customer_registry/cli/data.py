"""``history`` and ``keys``."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from customer_registry import key_checks, signing
from customer_registry.auth import MAX_CLIENT_ID
from customer_registry.cli.app import app, checked_vault, console, in_store, settings
from customer_registry.config import Settings
from customer_registry.customers import service
from customer_registry.customers.errors import CustomerNotFound
from customer_registry.customers.model import HistoryEntry
from customer_registry.db import Database, Store, open_database
from customer_registry.vault import Vault

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for personal data.")
app.add_typer(keys_app, name="keys")
_BATCH = 500
T = TypeVar("T")


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


@keys_app.command("add")
def add_key() -> None:
    """Add a new key to the key file without using it yet, for deployments with several
    replicas: copy the file to every replica, then run `keys rotate` to start using it."""
    current = settings()

    async def add(database: Database) -> str:
        vault = await checked_vault(database, current)
        kid = vault.add()
        await key_checks.prepare(database, vault)
        return kid

    kid = _with_database(current, add)
    console.print(f"Added key {kid} to {current.key_file}; copy the file to every replica.")


@keys_app.command("rotate")
def rotate_keys(
    resume: Annotated[
        bool, typer.Option("--resume", help="Only re-encrypt: finish an interrupted rotation.")
    ] = False,
) -> None:
    """Make the newest key current (a new one, unless `keys add` made one not in use yet)
    and re-encrypt all personal data and signing keys with it, in batches.

    The service keeps running: every process reads the new key file on its next write, and
    old values stay readable until they are re-encrypted.
    """
    current = settings()

    async def rotate(database: Database) -> tuple[str | None, int, int]:
        vault = await checked_vault(database, current)
        kid = None if resume else vault.rotate()
        await key_checks.prepare(database, vault)
        customers_done, history_done = await _reseal_all(database, vault)
        return kid, customers_done, history_done

    kid, customers_done, history_done = _with_database(current, rotate)
    if kid is not None:
        console.print(f"New current key {kid} in {current.key_file}.")
    console.print(f"Re-encrypted {customers_done} customers and {history_done} history entries.")


async def _reseal_all(database: Database, vault: Vault) -> tuple[int, int]:
    """Re-encrypt in batches of their own transactions: no long lock on a live database."""
    customers_done = await _batches(database, vault, service.reseal_customers)
    history_done = await _batches(database, vault, service.reseal_history)
    async with database.transaction() as conn:
        await signing.reseal_keys(conn, vault)
    return customers_done, history_done


async def _batches(database: Database, vault: Vault, reseal: service.Reseal) -> int:
    total, after = 0, None
    while True:
        async with database.transaction() as conn:
            changed, after = await reseal(Store(conn, vault), after, _BATCH)
        total += changed
        if after is None:
            return total


@keys_app.command("rotate-signing")
def rotate_signing_keys(
    retire: Annotated[
        bool,
        typer.Option(
            "--retire",
            help="Instead of adding a key, delete the old keys whose tokens have all expired.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --retire: delete every old key now, though tokens signed with it have "
            "not expired (a leaked key); their holders must request new tokens.",
        ),
    ] = False,
) -> None:
    """Add a new token signing key: it signs new tokens, the old ones keep verifying until
    the tokens signed with them have expired (CUSTOMER_REGISTRY_TOKEN_TTL_SECONDS); then
    `--retire` deletes them, and every server stops accepting them within seconds."""
    current = settings()
    lifetime = timedelta(seconds=current.token_ttl_seconds)

    async def rotate(database: Database) -> list[str]:
        vault = await checked_vault(database, current)
        async with database.transaction() as conn:
            if retire:
                return await signing.retire_keys(conn, lifetime, force=force)
            return [await signing.add_key(conn, vault)]

    kids = _with_database(current, rotate)
    if not retire:
        console.print(f"New signing key {kids[0]}; retire the old ones after {lifetime}.")
    elif kids:
        console.print(f"Retired signing keys {', '.join(kids)}.")
    else:
        console.print(f"No signing key to retire: none was replaced more than {lifetime} ago.")


def _with_database(current: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = open_database(current)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())

"""``history`` and ``keys``."""

from __future__ import annotations

from datetime import datetime, timedelta
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
    settings,
)
from customer_registry.cli.output import AsJson, print_json, print_table, utc

if TYPE_CHECKING:
    from customer_registry.customers import service
    from customer_registry.db import Database, Store
    from customer_registry.vault import Vault

keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for personal data.")
app.add_typer(keys_app, name="keys")
_BATCH = 500


@app.command()
def history(
    client_id: ClientId,
    customer_number: Annotated[str, typer.Option("--customer-number")],
    as_json: AsJson = False,
) -> None:
    """Print every change of a customer: who, when, and each field's old and new value."""
    from customer_registry.customers.errors import CustomerNotFound

    try:
        entries = in_store(settings(), lambda store: _history(store, client_id, customer_number))
    except CustomerNotFound as exc:
        raise fail(exc.message) from exc
    if as_json:
        print_json({"items": entries})
        return
    columns = ("version", "changedAt", "dialect", "oauthClientId", "requestId")
    rows = [
        (*((str(entry[c] or "") for c in columns) if index == 0 else ("",) * 5),
         change["field"], _shown(change["old"]), _shown(change["new"]))
        for entry in entries
        for index, change in enumerate(entry["changes"])
    ]  # fmt: skip
    print_table((*columns, "field", "old", "new"), rows)


async def _history(store: Store, client_id: int, customer_number: str) -> list[dict[str, Any]]:
    """The entries as the API shows them, naming credentials by their ``oauthClientId``."""
    from customer_registry.auth import credentials
    from customer_registry.customers import service
    from customer_registry.history.schemas import from_history

    entries = await service.history(store, client_id, customer_number)
    names = await credentials.oauth_client_ids(store.conn)
    shown = from_history(entries)["items"]
    return [
        _entry(item, entry.changed_at, names) for item, entry in zip(shown, entries, strict=True)
    ]


def _entry(item: dict[str, Any], changed_at: datetime, names: dict[str, str]) -> dict[str, Any]:
    """The API's entry, the time in UTC and the credential by the name operators know."""
    credential = item["credentialId"]
    return {
        "version": item["version"],
        "changedAt": utc(changed_at),
        "dialect": item["dialect"],
        "oauthClientId": names.get(credential, credential),
        "requestId": item["requestId"],
        "changes": item["changes"],
    }


def _shown(value: object) -> str:
    return "" if value is None else str(value)


@keys_app.command("add")
def add_key() -> None:
    """Add a new key to the key file without using it yet, for deployments with several
    replicas: copy the file to every replica, then run "keys rotate" to start using it."""
    from customer_registry.ops import key_checks

    current = settings()

    async def add(database: Database) -> str:
        vault = await checked_vault(database, current)
        kid = vault.add()
        await key_checks.prepare(database, vault)
        return kid

    kid = on_database(current, add)
    console.print(f"Added key {kid} to {current.key_file}; copy the file to every replica.")


@keys_app.command("rotate")
def rotate_keys(
    resume: Annotated[
        bool, typer.Option("--resume", help="Only re-encrypt: finish an interrupted rotation.")
    ] = False,
) -> None:
    """Make the newest key current (a new one, unless "keys add" made one not in use yet)
    and re-encrypt all personal data and signing keys with it, in batches.

    The service keeps running: every process reads the new key file on its next write, and
    old values stay readable until they are re-encrypted.
    """
    from customer_registry.ops import key_checks

    current = settings()

    async def rotate(database: Database) -> tuple[str | None, tuple[int, int, int]]:
        vault = await checked_vault(database, current)
        kid = None if resume else vault.rotate()
        await key_checks.prepare(database, vault)
        return kid, await _reseal_all(database, vault)

    kid, (customers_done, history_done, events_done) = on_database(current, rotate)
    if kid is not None:
        console.print(f"New current key {kid} in {current.key_file}.")
    console.print(
        f"Re-encrypted {customers_done} customers, {history_done} history entries "
        f"and {events_done} change events."
    )


async def _reseal_all(database: Database, vault: Vault) -> tuple[int, int, int]:
    """Re-encrypt in batches of their own transactions: no long lock on a live database."""
    from customer_registry.auth import signing
    from customer_registry.customers import service
    from customer_registry.events import repository as events
    from customer_registry.events import webhook_repository as webhooks
    from customer_registry.http import idempotency

    customers_done = await _batches(database, vault, service.reseal_customers)
    history_done = await _batches(database, vault, service.reseal_history)
    events_done = await _batches(database, vault, events.reseal)
    async with database.transaction() as conn:
        await signing.reseal_keys(conn, vault)
        await webhooks.reseal(conn, vault)
        await idempotency.reseal(conn, vault)
    return customers_done, history_done, events_done


async def _batches(database: Database, vault: Vault, reseal: service.Reseal) -> int:
    from customer_registry.db import Store

    total, after = 0, None
    while True:
        async with database.transaction() as conn:
            changed, after = await reseal(Store(conn, vault), after, _BATCH)
        total += changed
        if after is None:
            return total


@keys_app.command("retire")
def retire_keys() -> None:
    """Delete the keys older than the current one from the key file, after re-encrypting
    whatever is still sealed under them. Backups made before the last "keys rotate" can then
    no longer be decrypted: that is what makes an erasure reach them (docs/privacy.md).
    Copy the key file to every replica afterwards."""
    from customer_registry.ops import key_checks

    current = settings()

    async def retire(database: Database) -> list[str]:
        vault = await checked_vault(database, current)
        await _reseal_all(database, vault)
        retired = vault.retire()
        await key_checks.forget(database, retired)
        return retired

    retired = on_database(current, retire)
    if not retired:
        console.print("No key older than the current one: nothing to retire.")
        return
    console.print(
        f"Retired {', '.join(retired)} from {current.key_file}; copy it to every replica."
    )


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
    --retire deletes them, and every server stops accepting them within seconds."""
    from customer_registry.auth import signing

    current = settings()
    lifetime = timedelta(seconds=current.token_ttl_seconds)

    async def rotate(database: Database) -> list[str]:
        vault = await checked_vault(database, current)
        async with database.transaction() as conn:
            if retire:
                return await signing.retire_keys(conn, lifetime, force=force)
            return [await signing.add_key(conn, vault)]

    kids = on_database(current, rotate)
    if not retire:
        console.print(f"New signing key {kids[0]}; retire the old ones after {lifetime}.")
    elif kids:
        console.print(f"Retired signing keys {', '.join(kids)}.")
    else:
        console.print(f"No signing key to retire: none was replaced more than {lifetime} ago.")

"""``idempotency purge``."""

import asyncio

import typer

from customer_registry import housekeeping
from customer_registry.cli.app import app, console, settings
from customer_registry.config import Settings
from customer_registry.db import open_database

idempotency_app = typer.Typer(no_args_is_help=True, help="Stored answers to idempotent requests.")
app.add_typer(idempotency_app, name="idempotency")


async def _purge(current: Settings) -> int:
    database = open_database(current)
    try:
        return await housekeeping.purge_idempotency(database)
    finally:
        await database.close()


@idempotency_app.command("purge")
def purge() -> None:
    """Delete the records older than 24 hours now (serve also does, every 10 minutes)."""
    deleted = asyncio.run(_purge(settings()))
    console.print(f"Deleted {deleted} expired idempotency records.")

"""``idempotency purge``."""

import typer

from customer_registry.cli.app import app, console, on_database, settings

idempotency_app = typer.Typer(no_args_is_help=True, help="Stored answers to idempotent requests.")
app.add_typer(idempotency_app, name="idempotency")


@idempotency_app.command("purge")
def purge() -> None:
    """Delete the records older than 24 hours now (serve also does, every 10 minutes)."""
    from customer_registry.ops import housekeeping

    deleted = on_database(settings(), housekeeping.purge_idempotency)
    console.print(f"Deleted {deleted} expired idempotency records.")

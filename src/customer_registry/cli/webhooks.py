"""``webhooks add | list | remove | replay`` and ``deliver``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from customer_registry.cli.app import (
    ClientId,
    app,
    checked_vault,
    console,
    fail,
    in_store,
    in_transaction,
    on_database,
    settings,
)
from customer_registry.cli.output import AsJson, print_json, print_table

if TYPE_CHECKING:
    from customer_registry.config import Settings
    from customer_registry.db import Database

webhooks_app = typer.Typer(
    no_args_is_help=True, help="Webhook endpoints: a client's change events sent to a URL."
)
app.add_typer(webhooks_app, name="webhooks")
EndpointId = Annotated[str, typer.Argument(help="The endpoint's id (whk_...), as listed.")]


def _checked_url(current: Settings, url: str, event_types: list[str] | None) -> Any:
    """The endpoint as the API would take it (the URL checked, its addresses too), or exit 2."""
    import asyncio

    from pydantic import ValidationError

    from customer_registry.events import schemas, targets

    try:
        new = schemas.WebhookIn.model_validate({"url": url, "eventTypes": event_types or None})
        asyncio.run(targets.checked(str(new.url), allow_private=current.webhook_allow_private))
    except ValidationError as exc:
        raise fail(f"invalid endpoint: {exc.errors()[0]['msg']}", code=2) from exc
    except targets.TargetRefused as exc:
        raise fail(f"{url}: {exc}", code=2) from exc
    return new


@webhooks_app.command("add")
def add_webhook(
    url: Annotated[str, typer.Argument(help="https:// URL to send the events to.")],
    client_id: ClientId,
    event_type: Annotated[
        list[str] | None,
        typer.Option("--event-type", help="Only this type (repeatable); default: every type."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Send a client's change events to URL; prints the signing secret, once."""
    from customer_registry.events import service

    current = settings()
    new = _checked_url(current, url, event_type)
    created = in_store(
        current, lambda store: service.add_webhook(store, client_id, str(new.url), new.eventTypes)
    )
    shown = {"id": created.endpoint["id"], "url": str(new.url), "secret": created.secret}
    if as_json:
        print_json({**shown, "clientId": client_id, "eventTypes": new.eventTypes})
        return
    console.print("[bold]Webhook endpoint[/] (the secret is shown only now):")
    for label, value in shown.items():
        typer.echo(f"  {label}: {value}")


@webhooks_app.command("list")
def list_webhooks(
    client_id: Annotated[
        int | None, typer.Option("--client-id", min=1, help="Only this client's.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List endpoints and how their deliveries go (never their secrets)."""
    from customer_registry.events import schemas, service

    found = in_transaction(settings(), lambda conn: service.webhooks(conn, client_id))
    shown = [{"clientId": row["client_id"], **schemas.webhook(row)} for row in found]
    if as_json:
        print_json(shown)
        return
    columns = ("id", "clientId", "url", "eventTypes", "status", "pendingDeliveries",
               "failedDeliveries", "failingSince", "lastError")  # fmt: skip
    rows = [[_text(item[name]) for name in columns] for item in shown]
    print_table(columns, rows)


def _text(value: object) -> str:
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


@webhooks_app.command("remove")
def remove_webhook(endpoint_id: EndpointId) -> None:
    """Remove an endpoint, its pending and its failed deliveries."""
    from customer_registry.errors import NotFound
    from customer_registry.events import service

    try:
        in_transaction(settings(), lambda conn: service.remove_webhook(conn, None, endpoint_id))
    except NotFound as exc:
        raise fail(exc.message) from exc
    console.print(f"Webhook endpoint {endpoint_id} removed.")


@webhooks_app.command("replay")
def replay(
    endpoint_id: EndpointId,
    after: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="A feed cursor (a page's 'next'): the events after it are sent again.",
            show_default="every event kept",
        ),
    ] = None,
) -> None:
    """Send an endpoint the events after a cursor again, and enable it if it was disabled."""
    from customer_registry.errors import AppError
    from customer_registry.events import schemas, service

    async def rewind(conn: Any) -> int:
        found = await service.endpoint(conn, endpoint_id)
        position = None if after is None else schemas.cursor_position(after, found["client_id"])
        return await service.replay(conn, endpoint_id, position)

    try:
        start = in_transaction(settings(), rewind)
    except AppError as exc:
        raise fail(exc.message, code=2 if exc.status == 400 else 1) from exc
    console.print(f"Webhook endpoint {endpoint_id} is sent every event after position {start}.")


@app.command()
def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Deliver webhooks until stopped, from a process of its own (serve delivers too)."""
    current = settings()
    if once:
        if not on_database(current, lambda database: _deliver_now(database, current)):
            raise fail("another deliverer holds this SQLite database (serve?); try again later")
        return
    import asyncio

    try:
        on_database(current, lambda database: _deliver_forever(database, current))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("Delivery stopped.")


async def _deliver_now(database: Database, current: Settings) -> bool:
    from customer_registry.events import delivery

    vault = await checked_vault(database, current)
    return await delivery.deliver_now(database, vault, current)


async def _deliver_forever(database: Database, current: Settings) -> None:
    import asyncio
    import signal

    from customer_registry.events import delivery

    vault = await checked_vault(database, current)
    console.print("Delivering webhooks; Ctrl-C or SIGTERM stops.")
    task = asyncio.ensure_future(delivery.deliver_forever(database, vault, current))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await task

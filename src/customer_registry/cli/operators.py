"""``operators create | list | remove | reset-password``: accounts of the console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from customer_registry.cli.app import (
    MAX_CLIENT_ID,
    app,
    console,
    fail,
    in_transaction,
    prepare_database,
    settings,
)
from customer_registry.cli.output import AsJson, print_json, print_table, utc

if TYPE_CHECKING:
    from customer_registry.config import Settings

operators_app = typer.Typer(no_args_is_help=True, help="Manage operator accounts of the console.")
app.add_typer(operators_app, name="operators")

Name = Annotated[str, typer.Argument(help="The operator's name.")]
ServerUrl = Annotated[
    str | None,
    typer.Option(
        "--server-url",
        help="Where the server listens, for the sign-in address shown (serve prints it).",
        show_default="CUSTOMER_REGISTRY_PUBLIC_URL, else http://127.0.0.1:8000",
    ),
]


def _print_password(current: Settings, name: str, password: str, server_url: str | None) -> None:
    base = (server_url or current.public_url or "http://127.0.0.1:8000").rstrip("/")
    console.print(
        f"One-time password of operator {name} (shown only now; it works once, within "
        "24 hours, to choose a password of their own):",
        markup=False,
        highlight=False,
    )
    typer.echo(password)
    console.print(f"Sign in at {base}/console/sign-in", markup=False, highlight=False)


@operators_app.command("create")
def create_operator(
    name: Annotated[str, typer.Option("--name", help="How the operator signs in.")],
    client_id: Annotated[
        list[int] | None,
        typer.Option("--client-id", min=1, max=MAX_CLIENT_ID, help="A client it may see."),
    ] = None,
    all_clients: Annotated[
        bool, typer.Option("--all-clients", help="It may see every client.")
    ] = False,
    server_url: ServerUrl = None,
) -> None:
    """Create an operator for some clients (--client-id, repeated) or all (--all-clients)
    and print its one-time password on stdout."""
    from customer_registry.console import operators

    if bool(client_id) == all_clients:
        raise fail("give either --client-id N (once per client) or --all-clients", code=2)
    if not 1 <= len(name) <= 100 or not name.isprintable() or name != name.strip():
        raise fail("--name must be 1 to 100 printable characters, without spaces around", code=2)
    current = settings()
    prepare_database(current)
    created = in_transaction(
        current, lambda conn: operators.create_operator(conn, name, client_id or None)
    )
    if created is None:
        raise fail(f"an operator named {name!r} exists already")
    _print_password(current, name, created[1], server_url)


@operators_app.command("list")
def list_operators(as_json: AsJson = False) -> None:
    """List operators and the clients each may see (never their passwords)."""
    from customer_registry.console import operators

    found = in_transaction(settings(), operators.list_operators)
    if as_json:
        print_json(
            [
                {
                    "name": info.name,
                    "clientIds": info.client_ids,
                    "createdAt": utc(info.created_at),
                    "oneTimePassword": info.one_time_password,
                }
                for info in found
            ]
        )
        return
    rows = [
        (info.name, "all" if info.client_ids is None else ",".join(map(str, info.client_ids)),
         utc(info.created_at), "one-time" if info.one_time_password else "chosen")
        for info in found
    ]  # fmt: skip
    print_table(("name", "clientIds", "createdAt", "password"), rows)


@operators_app.command("remove")
def remove_operator(name: Name) -> None:
    """Remove an operator: its sessions end at once; its reveals stay in the history."""
    from customer_registry.console import operators

    if not in_transaction(settings(), lambda conn: operators.remove_operator(conn, name)):
        raise fail(f"no operator named {name!r}")
    console.print(f"Operator {name} removed.", markup=False, highlight=False)


@operators_app.command("reset-password")
def reset_password(name: Name, server_url: ServerUrl = None) -> None:
    """A new one-time password for an operator; its sessions end at once."""
    from customer_registry.console import operators

    current = settings()
    password = in_transaction(current, lambda conn: operators.reset_password(conn, name))
    if password is None:
        raise fail(f"no operator named {name!r}")
    _print_password(current, name, password, server_url)

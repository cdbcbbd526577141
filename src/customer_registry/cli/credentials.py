"""``credentials create | list | revoke | rotate`` and ``clients list``."""

import json
from typing import Annotated

import typer
from rich.table import Table

from customer_registry import credentials
from customer_registry.auth import MAX_CLIENT_ID
from customer_registry.cli.app import app, console, fail, in_transaction, prepare_database, settings

credentials_app = typer.Typer(no_args_is_help=True, help="Manage API credentials.")
clients_app = typer.Typer(no_args_is_help=True, help="Inspect clients (tenants).")
app.add_typer(credentials_app, name="credentials")
app.add_typer(clients_app, name="clients")

OAuthClientId = Annotated[str, typer.Argument(help="The credential's oauthClientId.")]


def _print_secrets(issued: credentials.IssuedCredential, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(issued.public()))
        return
    console.print("[bold]Credential secrets[/] (shown only now):")
    for label, value in issued.public().items():
        typer.echo(f"  {label}: {value}")
    console.print(
        "Get a token: curl -X POST http://127.0.0.1:8000/oauth/token "
        f"-d grant_type=client_credentials -d client_id={issued.oauth_client_id} "
        "-d client_secret=<oauthClientSecret>"
    )


@credentials_app.command("create")
def create_credential(
    client_id: Annotated[
        list[int],
        typer.Option("--client-id", min=1, max=MAX_CLIENT_ID, help="Client it covers."),
    ],
    name: Annotated[str, typer.Option(help="A label for people.")] = "default",
    oauth_client_id: Annotated[
        str | None,
        typer.Option(help="The client id at your identity provider (OAUTH_JWKS_URL)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a credential for one or more clients and print its secrets, once."""
    current = settings()
    prepare_database(current)
    issued = in_transaction(
        current,
        lambda conn: credentials.create_credential(conn, client_id, name, oauth_client_id),
    )
    _print_secrets(issued, as_json)


@credentials_app.command("list")
def list_credentials() -> None:
    """List credentials and the clients they cover (never their secrets)."""
    found = in_transaction(settings(), credentials.list_credentials)
    table = Table("oauthClientId", "name", "clients", "created", "revoked")
    for info in found:
        revoked = f"{info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else ""
        clients = ", ".join(map(str, info.client_ids))
        table.add_row(
            info.oauth_client_id, info.name, clients, f"{info.created_at:%Y-%m-%d %H:%M}", revoked
        )
    console.print(table)


@credentials_app.command("revoke")
def revoke_credential(oauth_client_id: OAuthClientId) -> None:
    """Revoke a credential: its tokens and subscription key stop working at once."""
    revoked = in_transaction(
        settings(), lambda conn: credentials.revoke_credential(conn, oauth_client_id)
    )
    if not revoked:
        raise fail(f"no active credential {oauth_client_id!r}")
    console.print(f"Credential {oauth_client_id} revoked.")


@credentials_app.command("rotate")
def rotate_credential(
    oauth_client_id: OAuthClientId,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """New secrets for a credential; its old secret, key and tokens stop working at once."""
    issued = in_transaction(
        settings(), lambda conn: credentials.rotate_credential(conn, oauth_client_id)
    )
    if issued is None:
        raise fail(f"no active credential {oauth_client_id!r}")
    _print_secrets(issued, as_json)


@clients_app.command("list")
def list_clients() -> None:
    """List clients with their number of customers."""
    table = Table("client id", "customers")
    for client_id, count in in_transaction(settings(), credentials.list_clients):
        table.add_row(str(client_id), str(count))
    console.print(table)

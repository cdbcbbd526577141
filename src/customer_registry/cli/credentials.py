"""``credentials create | list | revoke | rotate`` and ``clients list``."""

from __future__ import annotations

import json
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
from customer_registry.cli.output import AsJson, print_json, print_table, utc, utc_or_none

if TYPE_CHECKING:
    from customer_registry.auth.credentials import CredentialInfo, IssuedCredential
    from customer_registry.config import Settings

credentials_app = typer.Typer(no_args_is_help=True, help="Manage API credentials.")
clients_app = typer.Typer(no_args_is_help=True, help="Inspect clients (tenants).")
app.add_typer(credentials_app, name="credentials")
app.add_typer(clients_app, name="clients")

OAuthClientId = Annotated[str, typer.Argument(help="The credential's oauthClientId.")]
ServerUrl = Annotated[
    str | None,
    typer.Option(
        "--server-url",
        help="Where the server listens, for the token request shown (serve prints it).",
        show_default="CUSTOMER_REGISTRY_PUBLIC_URL, else http://127.0.0.1:8000",
    ),
]


def _server(current: Settings, server_url: str | None) -> str:
    return (server_url or current.public_url or "http://127.0.0.1:8000").rstrip("/")


def _print_secrets(issued: IssuedCredential, as_json: bool, server_url: str) -> None:
    if as_json:
        typer.echo(json.dumps(issued.public()))
        return
    console.print("[bold]Credential secrets[/] (shown only now):")
    for label, value in issued.public().items():
        typer.echo(f"  {label}: {value}")
    console.print(
        f"Get a token: curl -X POST {server_url}/oauth/token "
        f"-d grant_type=client_credentials -d client_id={issued.oauth_client_id} "
        "-d client_secret=<oauthClientSecret>",
        markup=False,
        highlight=False,
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
    server_url: ServerUrl = None,
) -> None:
    """Create a credential for one or more clients and print its secrets, once."""
    from customer_registry.auth import credentials

    current = settings()
    prepare_database(current)
    issued = in_transaction(
        current,
        lambda conn: credentials.create_credential(conn, client_id, name, oauth_client_id),
    )
    _print_secrets(issued, as_json, _server(current, server_url))


@credentials_app.command("list")
def list_credentials(as_json: AsJson = False) -> None:
    """List credentials and the clients they cover (never their secrets)."""
    from customer_registry.auth import credentials

    found = in_transaction(settings(), credentials.list_credentials)
    if as_json:
        print_json([_shown(info) for info in found])
        return
    rows = [
        (info.oauth_client_id, info.name, ",".join(map(str, info.client_ids)),
         utc(info.created_at), utc_or_none(info.revoked_at) or "")
        for info in found
    ]  # fmt: skip
    print_table(("oauthClientId", "name", "clientIds", "createdAt", "revokedAt"), rows)


def _shown(info: CredentialInfo) -> dict[str, object]:
    return {
        "oauthClientId": info.oauth_client_id,
        "name": info.name,
        "clientIds": info.client_ids,
        "createdAt": utc(info.created_at),
        "revokedAt": utc_or_none(info.revoked_at),
    }


@credentials_app.command("revoke")
def revoke_credential(oauth_client_id: OAuthClientId) -> None:
    """Revoke a credential: its tokens and subscription key stop working at once."""
    from customer_registry.auth import credentials

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
    server_url: ServerUrl = None,
) -> None:
    """New secrets for a credential; its old secret, key and tokens stop working at once."""
    from customer_registry.auth import credentials

    current = settings()
    issued = in_transaction(
        current, lambda conn: credentials.rotate_credential(conn, oauth_client_id)
    )
    if issued is None:
        raise fail(f"no active credential {oauth_client_id!r}")
    _print_secrets(issued, as_json, _server(current, server_url))


@clients_app.command("list")
def list_clients(as_json: AsJson = False) -> None:
    """List clients with their number of customers."""
    from customer_registry.auth import credentials

    counted = in_transaction(settings(), credentials.list_clients)
    if as_json:
        print_json([{"clientId": client, "customers": count} for client, count in counted])
        return
    print_table(("clientId", "customers"), [(str(c), str(n)) for c, n in counted])

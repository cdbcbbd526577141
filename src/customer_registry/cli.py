"""The operator CLI: ``customer-registry serve | migrate | credentials``."""

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
import uvicorn
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncConnection

from customer_registry import auth, logs, migrations
from customer_registry.config import Settings
from customer_registry.db import create_engine, database_url
from customer_registry.errors import ConfigurationError

app = typer.Typer(
    no_args_is_help=True,
    help="Customer Registry: customer master data speaking Riverty's customer APIs.",
)
credentials_app = typer.Typer(no_args_is_help=True, help="Manage API credentials.")
app.add_typer(credentials_app, name="credentials")
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _settings() -> Settings:
    return Settings()


def _prepare_database(settings: Settings) -> None:
    if settings.migrate_on_start:
        migrations.upgrade(settings.database_url, key_file=settings.key_file)


def _metrics_directory(workers: int) -> Path | None:
    """Give the workers one empty directory for their metric files; return it if we made it.

    prometheus-client reads PROMETHEUS_MULTIPROC_DIR when imported, so it must be in the
    environment before the workers start; files left by an earlier run would add their
    counts to this run's.
    """
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    if workers == 1:
        return None
    created = tempfile.mkdtemp(prefix="customer-registry-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = created
    return Path(created)


LogFormat = Literal["json", "console"]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(help="Log lines as JSON or for people [default: JSON unless a terminal]."),
    ] = None,
) -> None:
    """Start the API server (migrating the database first unless told not to)."""
    if log_format is not None:
        # Through the environment: each worker process builds its own Settings.
        os.environ["CUSTOMER_REGISTRY_LOG_FORMAT"] = log_format
    settings = _settings()
    logs.configure(settings)
    _prepare_database(settings)
    base = settings.public_url or f"http://{host}:{port}"
    console.print(f"Customer Registry on [bold]{base}[/] (database: {_safe_url(settings)})")
    console.print(f"  API docs:   {base}/docs")
    console.print("  Credential: customer-registry credentials create --client-id 1234")
    created = _metrics_directory(workers)
    try:
        uvicorn.run(
            "customer_registry.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="warning",
            # Ours instead of uvicorn's: its access line has the path (customer numbers), its
            # tracebacks the exception message (values).
            log_config=None,
            access_log=False,
        )
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)


def _safe_url(settings: Settings) -> str:
    return database_url(settings.database_url).render_as_string(hide_password=True)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest version."""
    settings = _settings()
    migrations.upgrade(settings.database_url, key_file=settings.key_file)
    console.print(f"Database {_safe_url(settings)} is up to date.")


async def _in_transaction(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            return await work(conn)
    finally:
        await engine.dispose()


@credentials_app.command("create")
def create_credential(
    client_id: Annotated[
        list[int],
        typer.Option("--client-id", min=1, max=auth.MAX_CLIENT_ID, help="Client it covers."),
    ],
    name: Annotated[str, typer.Option(help="A label for people.")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a credential for one or more clients and print its secrets, once."""
    settings = _settings()
    _prepare_database(settings)
    issued = asyncio.run(
        _in_transaction(settings, lambda conn: auth.create_credential(conn, client_id, name))
    )
    if as_json:
        typer.echo(json.dumps(issued.public()))
        return
    console.print("[bold]New credential[/] (the secrets are shown only now):")
    for label, value in issued.public().items():
        typer.echo(f"  {label}: {value}")
    console.print(
        "Get a token: curl -X POST http://127.0.0.1:8000/oauth/token "
        f"-d grant_type=client_credentials -d client_id={issued.oauth_client_id} "
        "-d client_secret=<oauthClientSecret>"
    )


@credentials_app.command("revoke")
def revoke_credential(
    oauth_client_id: Annotated[str, typer.Argument(help="The credential's oauthClientId.")],
) -> None:
    """Revoke a credential: its tokens and subscription key stop working at once."""
    settings = _settings()
    revoked = asyncio.run(
        _in_transaction(settings, lambda conn: auth.revoke_credential(conn, oauth_client_id))
    )
    if not revoked:
        console.print(f"[red]error:[/] no active credential {oauth_client_id!r}")
        raise typer.Exit(1)
    console.print(f"Credential {oauth_client_id} revoked.")


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise SystemExit(2) from exc

"""``serve`` and ``migrate``."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer
from alembic import command

from customer_registry import logs, migrations
from customer_registry.cli import listeners
from customer_registry.cli.app import (
    app,
    console,
    prepare_database,
    prepare_keys,
    safe_url,
    settings,
)
from customer_registry.config import Settings
from customer_registry.horizon.directory import check_person_directory
from customer_registry.public_origin import host_allowed

LogFormat = Literal["json", "console"]


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
    if workers <= 1:
        return None
    created = tempfile.mkdtemp(prefix="customer-registry-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = created
    return Path(created)


_ANY_INTERFACE = frozenset({"0.0.0.0", "::", ""})


def _address(current: Settings, host: str, port: int) -> str:
    """Where to reach the server, as the hints print it: a URL whose host is allowed."""
    if current.public_url:
        return current.public_url.rstrip("/")
    name = "localhost" if host in _ANY_INTERFACE else host
    if not host_allowed(name, current.allowed_hosts):
        console.print(
            f"[yellow]warning:[/] requests to {name} get 400 for Horizon answers and redirects:"
            " set CUSTOMER_REGISTRY_PUBLIC_URL or add it to CUSTOMER_REGISTRY_ALLOWED_HOSTS"
        )
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            help="Log lines as JSON or for people.", show_default="JSON unless a terminal"
        ),
    ] = None,
) -> None:
    """Start the API server (migrating the database first unless told not to)."""
    if log_format is not None:
        # Through the environment: each worker process builds its own Settings.
        os.environ["CUSTOMER_REGISTRY_LOG_FORMAT"] = log_format
    current = settings()
    logs.configure(current)
    check_person_directory(current.person_directory)
    prepare_database(current)
    base = _address(current, host, port)
    console.print(f"Customer Registry on [bold]{base}[/] (database: {safe_url(current)})")
    console.print(f"  API docs:   {base}/docs")
    console.print("  Credential: customer-registry credentials create --client-id 1234")
    created = _metrics_directory(workers)
    try:
        listeners.run(
            "customer_registry.app:create_served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            forwarded_allow_ips=current.forwarded_allow_ips,
            loop="uvloop",
            http="httptools",
            # Longer than load balancers' idle timeouts (60 s is common): a connection the
            # balancer reuses must not be closed by us at the same moment (a 502 there).
            timeout_keep_alive=75,
            log_level="warning",
            # Ours instead of uvicorn's: its access line has the path (customer numbers), its
            # tracebacks the exception message (values).
            log_config=None,
            access_log=False,
        )
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)


migrate_app = typer.Typer(help="Database migrations.")
app.add_typer(migrate_app, name="migrate")


@migrate_app.callback(invoke_without_command=True)
def migrate(
    context: typer.Context,
    sql: Annotated[
        bool, typer.Option("--sql", help="Print the SQL instead of running it.")
    ] = False,
) -> None:
    """Apply database migrations up to the newest version."""
    if context.invoked_subcommand is not None:
        return
    current = settings()
    config = migrations.alembic_config(current.database_url, current.key_file)
    command.upgrade(config, "head", sql=sql)
    if not sql:
        prepare_keys(current)
        console.print(f"Database {safe_url(current)} is up to date.")


@migrate_app.command("current")
def migrate_current() -> None:
    """Print the database's migration version."""
    current = settings()
    command.current(migrations.alembic_config(current.database_url, current.key_file))


@migrate_app.command("downgrade")
def migrate_downgrade(
    to: Annotated[str, typer.Option("--to", help="Target revision, e.g. 0002 or base.")],
) -> None:
    """Undo migrations down to a revision (personal data is decrypted where needed)."""
    current = settings()
    migrations.downgrade(current.database_url, to, key_file=current.key_file)
    console.print(f"Database {safe_url(current)} is at {to}.")

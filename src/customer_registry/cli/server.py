"""``serve`` and ``migrate``."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from customer_registry.cli.app import (
    app,
    console,
    prepare_database,
    prepare_keys,
    safe_url,
    settings,
    where,
)

if TYPE_CHECKING:
    from customer_registry.config import Settings

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


def _address(current: "Settings", host: str, port: int) -> str:
    """Where to reach the server, as the hints print it: a URL whose host is allowed."""
    from customer_registry.http.public_origin import host_allowed

    if current.public_url:
        return current.public_url.rstrip("/")
    name = "localhost" if host in _ANY_INTERFACE else host
    if not host_allowed(name, current.allowed_hosts):
        console.print(
            f"[yellow]warning:[/] requests to {name} get 400 for Horizon answers and redirects:"
            " set CUSTOMER_REGISTRY_PUBLIC_URL or add it to CUSTOMER_REGISTRY_ALLOWED_HOSTS"
        )
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def _banner(base: str, database: str) -> None:
    console.print(f"Customer Registry on [bold]{base}[/] ({database})", highlight=False)
    console.print(f"  API docs:   {base}/docs", highlight=False)
    console.print(
        f"  Credential: customer-registry credentials create --client-id 1234 --server-url {base}",
        highlight=False,
    )


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
    import structlog

    from customer_registry.cli import listeners, waiting
    from customer_registry.horizon.directory import check_person_directory
    from customer_registry.ops import logs

    if log_format is not None:
        # Through the environment: each worker process builds its own Settings.
        os.environ["CUSTOMER_REGISTRY_LOG_FORMAT"] = log_format
    current = settings(announce=False)
    logs.configure(current)
    check_person_directory(current.person_directory)
    base = _address(current, host, port)
    logger = structlog.get_logger("customer_registry.serve")
    if logs.for_people(current.log_format):
        _banner(base, where(current))
    else:  # a JSON log stream stays JSON
        logger.info("starting", url=base, database=safe_url(current), workers=workers)
    waiting.wait_for_database(current, logger)
    prepare_database(current)
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
        bool,
        typer.Option(
            "--sql", help="Print the DDL of the pending migrations instead of running them."
        ),
    ] = False,
    from_scratch: Annotated[
        bool,
        typer.Option(
            "--from-scratch", help="With --sql: the DDL of every migration, for an empty database."
        ),
    ] = False,
) -> None:
    """Apply database migrations up to the newest version."""
    if context.invoked_subcommand is not None:
        return
    from customer_registry import migrations

    current = settings()
    if sql:
        migrations.print_sql(current.database_url, from_scratch=from_scratch)
        return
    migrations.upgrade(current.database_url, key_file=current.key_file)
    prepare_keys(current)
    console.print(f"Database {safe_url(current)} is up to date.", highlight=False)


@migrate_app.command("current")
def migrate_current() -> None:
    """Print the database's migration version."""
    from alembic import command

    from customer_registry import migrations

    current = settings()
    command.current(migrations.alembic_config(current.database_url, current.key_file))


@migrate_app.command("downgrade")
def migrate_downgrade(
    to: Annotated[str, typer.Option("--to", help="Target revision, e.g. 0002 or base.")],
) -> None:
    """Undo migrations down to a revision (personal data is decrypted where needed)."""
    from customer_registry import migrations

    current = settings()
    migrations.downgrade(current.database_url, to, key_file=current.key_file)
    console.print(f"Database {safe_url(current)} is at {to}.", highlight=False)

"""The Typer application and what its commands share.

Modules of the CLI import FastAPI, SQLAlchemy, Alembic and what loads them (the database,
the services) inside the commands that use them: ``--help`` then answers in a tenth of the
time.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from customer_registry.config import Settings
    from customer_registry.db import Database, Store, Tx
    from customer_registry.vault import Vault

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Customer Registry: customer master data speaking Riverty's customer APIs.",
)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
# auth.MAX_CLIENT_ID (client ids are BIGINT), which cannot be imported here: auth loads FastAPI.
MAX_CLIENT_ID = 2**63 - 1
ClientId = Annotated[int, typer.Option("--client-id", min=1, max=MAX_CLIENT_ID)]


def settings(*, announce: bool = True) -> Settings:
    """The settings, or exit 2 naming each invalid one; ``announce`` says on stderr which
    database and key file the command uses."""
    current = _valid_settings()
    if not current.key_file.parent.is_dir():
        raise fail(
            f"CUSTOMER_REGISTRY_KEY_FILE={current.key_file}: "
            f"directory {current.key_file.parent} does not exist",
            code=2,
        )
    if announce:
        console.print(where(current), markup=False, highlight=False)
    return current


def _valid_settings() -> Settings:
    from pydantic import ValidationError

    from customer_registry.cli.invalid_settings import describe
    from customer_registry.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        *others, last = describe(exc)
        for line in others:
            console.print(f"[red]error:[/] {line}", highlight=False)
        raise fail(last, code=2) from exc


def where(current: Settings) -> str:
    """Which database and key file: relative paths resolve against the working directory,
    so a command run elsewhere uses (and creates) other files."""
    return f"database: {safe_url(current)}, key file: {current.key_file.absolute()}"


def safe_url(current: Settings) -> str:
    """The database URL without its password; a SQLite file with its absolute path."""
    from customer_registry.db import database_url

    url = database_url(current.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        url = url.set(database=str(Path(url.database).absolute()))
    return url.render_as_string(hide_password=True)


def prepare_database(current: Settings) -> None:
    """Migrate (unless told not to), then refuse a key file the database's data does not fit."""
    from customer_registry import migrations

    if current.migrate_on_start:
        migrations.upgrade(current.database_url, key_file=current.key_file)
    prepare_keys(current)


def prepare_keys(current: Settings) -> None:
    """Refuse a key file that lacks a key the database's data needs (exit 2), create one
    for a database without sealed data, record new keys."""
    on_database(current, lambda database: checked_vault(database, current))


async def checked_vault(database: Database, current: Settings) -> Vault:
    """The key file's vault, proven to hold every key the database's data needs."""
    from customer_registry.ops import key_checks
    from customer_registry.vault import Vault

    return await key_checks.open_vault(database, Vault(current.key_file))


def private_file(path: Path) -> IO[str]:
    """``path`` opened for writing text, readable by its owner only: exports and import
    reports hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that was there keeps its mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def on_database(current: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the database of ``current`` on an event loop of its own; the
    database is closed afterwards."""
    import asyncio

    from customer_registry.db import open_database

    async def run() -> T:
        database = open_database(current)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


def in_transaction(current: Settings, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on its own event loop."""

    async def run(database: Database) -> T:
        async with database.transaction() as conn:
            return await work(conn)

    return on_database(current, run)


def in_store(current: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Like ``in_transaction``, with the vault for personal data."""
    from customer_registry.db import Store

    async def run(database: Database) -> T:
        vault = await checked_vault(database, current)
        async with database.transaction() as conn:
            return await work(Store(conn, vault))

    return on_database(current, run)

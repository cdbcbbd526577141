"""The Typer application and what its commands share."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TypeVar

import typer
from rich.console import Console

from customer_registry import key_checks, migrations
from customer_registry.config import Settings
from customer_registry.db import Database, Store, Tx, database_url, open_database
from customer_registry.vault import Vault

app = typer.Typer(
    no_args_is_help=True,
    help="Customer Registry: customer master data speaking Riverty's customer APIs.",
)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def settings() -> Settings:
    return Settings()


def prepare_database(current: Settings) -> None:
    """Migrate (unless told not to), then refuse a key file the database's data does not fit."""
    if current.migrate_on_start:
        migrations.upgrade(current.database_url, key_file=current.key_file)
    prepare_keys(current)


def prepare_keys(current: Settings) -> None:
    """Refuse a key file that lacks a key the database's data needs (exit 2), create one
    for a database without sealed data, record new keys."""
    asyncio.run(_prepare_keys(current))


async def _prepare_keys(current: Settings) -> None:
    database = open_database(current)
    try:
        await checked_vault(database, current)
    finally:
        await database.close()


async def checked_vault(database: Database, current: Settings) -> Vault:
    """The key file's vault, proven to hold every key the database's data needs."""
    return await key_checks.open_vault(database, Vault(current.key_file))


def safe_url(current: Settings) -> str:
    return database_url(current.database_url).render_as_string(hide_password=True)


def private_file(path: Path) -> IO[str]:
    """``path`` opened for writing text, readable by its owner only: exports and import
    reports hold personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that was there keeps its mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


async def _in_transaction(current: Settings, work: Callable[[Tx], Awaitable[T]]) -> T:
    database = open_database(current)
    try:
        async with database.transaction() as conn:
            return await work(conn)
    finally:
        await database.close()


def in_transaction(current: Settings, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on its own event loop."""
    return asyncio.run(_in_transaction(current, work))


async def _in_store(current: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    database = open_database(current)
    try:
        vault = await checked_vault(database, current)
        async with database.transaction() as conn:
            return await work(Store(conn, vault))
    finally:
        await database.close()


def in_store(current: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Like ``in_transaction``, with the vault for personal data."""
    return asyncio.run(_in_store(current, work))

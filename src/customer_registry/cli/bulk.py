"""``import`` and ``export``: one client's customers from and to JSON Lines or CSV files.

The row shapes and formats are described in docs/bulk.md.
"""

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn

from customer_registry.auth import MAX_CLIENT_ID
from customer_registry.bulk.formats import Format, HeaderInvalid, Writer
from customer_registry.bulk.rows import SHAPES, Dialect
from customer_registry.cli import import_jobs
from customer_registry.cli.app import (
    app,
    checked_vault,
    console,
    fail,
    prepare_database,
    private_file,
    settings,
)
from customer_registry.cli.import_jobs import Advance
from customer_registry.config import Settings
from customer_registry.customers import service
from customer_registry.db import Store, open_database

ClientId = Annotated[int, typer.Option("--client-id", min=1, max=MAX_CLIENT_ID)]
DialectOption = Annotated[
    Dialect, typer.Option(help="Row shape: registry (lossless), horizon or subscriptions.")
]


@contextmanager
def _progress(total: int | None, unit: str) -> Iterator[Advance]:
    """A progress bar on a terminal; nothing when stderr is a file or a pipe."""
    if not console.is_terminal:
        yield lambda completed: None
        return
    columns = (BarColumn(), TaskProgressColumn() if total else MofNCompleteColumn())
    with Progress(*Progress.get_default_columns()[:1], *columns, console=console) as bar:
        task = bar.add_task(unit, total=total)
        yield lambda completed: bar.update(task, completed=completed)


def _summary(counts: Counter[str], seconds: float, verb: str) -> None:
    rows = sum(counts.values())
    rate = f"{rows / seconds:,.0f}" if seconds > 0 else "-"
    if verb == "imported":
        kinds = ", ".join(f"{counts[kind]} {kind}" for kind in _IMPORT_OUTCOMES)
        line = f"imported {rows} rows: {kinds} in {seconds:.1f} s ({rate} rows/s)"
    else:
        line = f"exported {rows} customers in {seconds:.1f} s ({rate} rows/s)"
    console.print(line, markup=False, highlight=False)


_IMPORT_OUTCOMES = ("created", "updated", "unchanged", "rejected")
_BYTES_PER_JOB = 4 * 1024 * 1024


def _jobs(requested: int | None, size: int) -> int:
    """By default one process per 4 MB of file (about 12,000 rows), at most one per core.

    SQLite too: its writers take turns on one lock, but while one process writes, the other
    checks its next rows (100,000 rows: created 6,305-6,623 rows/s against 5,482-6,173 with
    one process, re-imported unchanged 28,329-29,155 against 17,921-18,416).
    """
    if requested is not None:
        return requested
    return max(1, min(os.cpu_count() or 1, size // _BYTES_PER_JOB))


@app.command("import")
def import_customers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The rows.")],
    client_id: ClientId,
    form: Annotated[
        Format | None,
        typer.Option("--format", help="jsonl or csv.", show_default="csv for *.csv, else jsonl"),
    ] = None,
    dialect: DialectOption = "registry",
    report: Annotated[
        Path | None, typer.Option(dir_okay=False, help="One JSON line per row: what became of it.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes sharing the rows.",
            show_default="1 per 4 MB of file, up to 1 per core",
        ),
    ] = None,
) -> None:
    """Create or update customers from a file; rows are checked exactly as the API checks them.

    Exit code 0 when every row was accepted, 1 when some were rejected (the others are
    written all the same).
    """
    form = form or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    current = settings()
    prepare_database(current)
    started = time.perf_counter()
    job = import_jobs.Job(file, form, dialect, client_id, report)
    size = file.stat().st_size
    try:
        # The import's other processes start before the progress bar's thread: see started().
        with (
            import_jobs.started(current, job, _jobs(jobs, size)) as running,
            _progress(size, "rows") as advance,
        ):
            counts = running(advance)
    except HeaderInvalid as exc:
        raise fail(f"{file}: {exc}", code=2) from exc
    _summary(counts, time.perf_counter() - started, "imported")
    raise typer.Exit(1 if counts["rejected"] else 0)


async def _export(
    current: Settings, client_id: int, shape_name: Dialect, writer: Writer, advance: Advance
) -> int:
    database, to_row, done = open_database(current), SHAPES[shape_name].to_row, 0
    try:
        vault = await checked_vault(database, current)
        async with database.snapshot() as conn:
            async for customer in service.export(Store(conn, vault), client_id):
                writer.write(to_row(customer))
                done += 1
                if done % 1000 == 0:
                    advance(done)
    finally:
        await database.close()
    return done


async def _count(current: Settings, client_id: int) -> int:
    database = open_database(current)
    try:
        vault = await checked_vault(database, current)
        async with database.reading() as conn:
            return await service.count(Store(conn, vault), client_id)
    finally:
        await database.close()


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """The output file, complete or not at all: written beside it, renamed when done."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with private_file(partial) as out:
            yield out
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


@app.command("export")
def export_customers(
    client_id: ClientId,
    form: Annotated[Format, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    dialect: DialectOption = "registry",
    output: Annotated[
        Path | None, typer.Option(dir_okay=False, help="File to write.", show_default="stdout")
    ] = None,
) -> None:
    """Write all customers of a client, in customer-number order, as rows for ``import``."""
    current = settings()
    started = time.perf_counter()
    total = asyncio.run(_count(current, client_id)) if console.is_terminal else None
    with _output(output) as out, _progress(total, "customers") as advance:
        writer = Writer(out, form, SHAPES[dialect].csv_columns)
        done = asyncio.run(_export(current, client_id, dialect, writer, advance))
    _summary(Counter(customers=done), time.perf_counter() - started, "exported")

"""``import`` and ``export``: one client's customers from and to JSON Lines or CSV files.

The row shapes and formats are described in docs/bulk.md.
"""

import asyncio
import gc
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Annotated, BinaryIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn

from customer_registry.auth import MAX_CLIENT_ID
from customer_registry.bulk import importer
from customer_registry.bulk.formats import Format, HeaderInvalid, Record, Writer, records
from customer_registry.bulk.rows import SHAPES, Dialect, Row, from_records
from customer_registry.cli.app import app, console, fail, prepare_database, settings
from customer_registry.config import Settings
from customer_registry.customers import service
from customer_registry.customers.service import Outcome
from customer_registry.db import Store, create_engine
from customer_registry.vault import Vault

ClientId = Annotated[int, typer.Option("--client-id", min=1, max=MAX_CLIENT_ID)]
DialectOption = Annotated[
    Dialect, typer.Option(help="Row shape: registry (lossless), horizon or subscriptions.")
]
BATCH = 2000
Advance = Callable[[int], None]


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


def _report_line(row: Row, outcome: Outcome) -> str:
    reasons = [{"name": r.name, "reason": r.reason} for r in outcome.reasons]
    entry = {
        "line": row.line,
        "customerNumber": row.customer_number,
        "outcome": outcome.kind,
        "reasons": reasons,
    }
    return json.dumps(entry, ensure_ascii=False) + "\n"


async def _import(
    current: Settings, rows: Iterator[Row], source: str, report: IO[str] | None
) -> Counter[str]:
    engine, vault = create_engine(current), Vault.open(current.key_file)
    counts: Counter[str] = Counter()
    try:
        batched = importer.batches(rows, BATCH)
        async for row, outcome in importer.run(engine, vault, batched, source=source):
            counts[outcome.kind] += 1
            if report is not None:
                report.write(_report_line(row, outcome))
    finally:
        await engine.dispose()
    return counts


@contextmanager
def _few_collections() -> Iterator[None]:
    """Cyclic garbage collection rarely, and never through what was loaded before.

    An import allocates some hundred objects per row, nearly all freed by reference counting;
    with the default thresholds the collector ran every 700 of them and walked the modules,
    models and metadata each time: an eighth of the import's CPU time (1.4 of 11.7 s).
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _tracked(file: BinaryIO, form: Format, advance: Advance) -> Iterator[Record]:
    for record in records(file, form):
        advance(record.offset)
        yield record


@app.command("import")
def import_customers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The rows.")],
    client_id: ClientId,
    form: Annotated[
        Format | None,
        typer.Option("--format", help="jsonl or csv [default: csv for *.csv, else jsonl]"),
    ] = None,
    dialect: DialectOption = "registry",
    report: Annotated[
        Path | None, typer.Option(dir_okay=False, help="One JSON line per row: what became of it.")
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
    report_file = report.open("w", encoding="utf-8") if report else nullcontext(None)
    with (
        file.open("rb") as source,
        report_file as out,
        _progress(file.stat().st_size, "rows") as advance,
        _few_collections(),
    ):
        rows = from_records(_tracked(source, form, advance), dialect, client_id)
        try:
            counts = asyncio.run(_import(current, rows, file.name, out))
        except HeaderInvalid as exc:
            raise fail(f"{file}: {exc}", code=2) from exc
    _summary(counts, time.perf_counter() - started, "imported")
    raise typer.Exit(1 if counts["rejected"] else 0)


async def _export(
    current: Settings, client_id: int, shape_name: Dialect, writer: Writer, advance: Advance
) -> int:
    engine, vault = create_engine(current), Vault.open(current.key_file)
    to_row, done = SHAPES[shape_name].to_row, 0
    try:
        # One transaction: a consistent snapshot on PostgreSQL, however long the export runs.
        async with engine.connect() as conn, conn.begin():
            async for customer in service.export(Store(conn, vault), client_id):
                writer.write(to_row(customer))
                done += 1
                if done % 1000 == 0:
                    advance(done)
    finally:
        await engine.dispose()
    return done


async def _count(current: Settings, client_id: int) -> int:
    engine, vault = create_engine(current), Vault.open(current.key_file)
    try:
        async with engine.connect() as conn:
            return await service.count(Store(conn, vault), client_id)
    finally:
        await engine.dispose()


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """The output file, complete or not at all: written beside it, renamed when done."""
    if path is None:
        yield sys.stdout
        return
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
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
        Path | None, typer.Option(dir_okay=False, help="File to write [default: stdout].")
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

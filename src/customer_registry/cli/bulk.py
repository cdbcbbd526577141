"""``import`` and ``export``: one client's customers from and to JSON Lines or CSV files.

The row shapes and formats are described in docs/bulk.md.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from customer_registry.bulk import Dialect, Format
from customer_registry.cli.app import (
    ClientId,
    app,
    checked_vault,
    console,
    fail,
    on_database,
    prepare_database,
    private_file,
    settings,
)

if TYPE_CHECKING:
    from customer_registry.bulk.formats import Writer
    from customer_registry.cli.import_jobs import Advance
    from customer_registry.config import Settings
    from customer_registry.db import Database

DialectOption = Annotated[
    Dialect, typer.Option(help="Row shape: registry (lossless), horizon or subscriptions.")
]


@contextmanager
def _progress(total: int | None, unit: str) -> Iterator[Advance]:
    """A progress bar on a terminal; nothing when stderr is a file or a pipe."""
    if not console.is_terminal:
        yield lambda completed: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn

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
    from customer_registry.bulk.formats import HeaderInvalid

    form = form or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    _check_format(file, form)
    current = settings()
    prepare_database(current)
    started = time.perf_counter()
    try:
        with _report_or_temporary(report) as written:
            counts = _run_import(current, file, form, dialect, client_id, written, jobs)
            if report is None and counts["rejected"]:
                _show_rejected(written)
    except HeaderInvalid as exc:
        raise fail(f"{file}: {exc}", code=2) from exc
    _summary(counts, time.perf_counter() - started, "imported")
    raise typer.Exit(1 if counts["rejected"] else 0)


def _run_import(
    current: Settings,
    file: Path,
    form: Format,
    dialect: Dialect,
    client_id: int,
    report: Path,
    jobs: int | None,
) -> Counter[str]:
    from customer_registry.cli import import_jobs

    job = import_jobs.Job(file, form, dialect, client_id, report)
    size = file.stat().st_size
    # The import's other processes start before the progress bar's thread: see started().
    with (
        import_jobs.started(current, job, _jobs(jobs, size)) as running,
        _progress(size, "rows") as advance,
    ):
        return running(advance)


def _sniffed(file: Path) -> Format | None:
    """What the file's first line looks like: a JSON object, a CSV header, or unclear."""
    with file.open("rb") as opened:
        first = opened.readline(64 * 1024).removeprefix(b"\xef\xbb\xbf").strip()
    if first.startswith(b"{"):
        return "jsonl"
    if first and b"," in first and not first.startswith((b"[", b'"{')):
        return "csv"
    return None


def _check_format(file: Path, form: Format) -> None:
    looks = _sniffed(file)
    if looks is not None and looks != form:
        names = {"jsonl": "JSON Lines", "csv": "CSV"}
        raise fail(
            f"{file} looks like {names[looks]}, not {names[form]}: use --format {looks}", code=2
        )


_SHOWN_REJECTIONS = 5


@contextmanager
def _report_or_temporary(report: Path | None) -> Iterator[Path]:
    """The report file asked for, or one of our own that is gone afterwards: the first
    rejected rows' reasons are told either way."""
    if report is not None:
        yield report
        return
    with tempfile.TemporaryDirectory(prefix="customer-registry-import-") as directory:
        yield Path(directory) / "report.jsonl"


def _show_rejected(report: Path) -> None:
    shown = 0
    with report.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry["outcome"] != "rejected":
                continue
            if shown == _SHOWN_REJECTIONS:
                break
            reasons = "; ".join(f"{r['name']}: {r['reason']}" for r in entry["reasons"])
            console.print(
                f"line {entry['line']}: rejected: {reasons}", markup=False, highlight=False
            )
            shown += 1
    console.print("Every row's outcome: --report FILE (one JSON line per row).", highlight=False)


def _export(
    current: Settings, client_id: int, shape_name: Dialect, writer: Writer, advance: Advance
) -> int:
    from customer_registry.bulk.records import SHAPES
    from customer_registry.customers import batches
    from customer_registry.db import Store

    to_row, done = SHAPES[shape_name].to_row, 0

    async def export(database: Database) -> int:
        nonlocal done
        vault = await checked_vault(database, current)
        async with database.snapshot() as conn:
            async for customer in batches.export(Store(conn, vault), client_id):
                writer.write(to_row(customer))
                done += 1
                if done % 1000 == 0:
                    advance(done)
        return done

    return on_database(current, export)


def _count(current: Settings, client_id: int) -> int:
    from customer_registry.customers import service
    from customer_registry.db import Store

    async def count(database: Database) -> int:
        vault = await checked_vault(database, current)
        async with database.reading() as conn:
            return await service.count(Store(conn, vault), client_id)

    return on_database(current, count)


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
    """Write all customers of a client, in customer-number order, as rows for import."""
    from customer_registry.bulk.formats import Writer
    from customer_registry.bulk.records import SHAPES

    current = settings()
    started = time.perf_counter()
    total = _count(current, client_id) if console.is_terminal else None
    with _output(output) as out, _progress(total, "customers") as advance:
        writer = Writer(out, form, SHAPES[dialect].csv_columns)
        done = _export(current, client_id, dialect, writer, advance)
    _summary(Counter(customers=done), time.perf_counter() - started, "exported")

"""Running an import: in this process, or shared out to several.

Checking a row and building what is written costs Python about 200 µs, the database a
fraction of that, so one process keeps one core busy and the others idle. With several jobs
the rows are split by customer number over that many processes; each runs the whole import
on its share (its own connection, batches and transactions) and writes its own report, and
the reports are merged back into file order. All rows of one customer fall to one process,
so they are still written in file order.
"""

import asyncio
import dataclasses
import gc
import heapq
import json
import multiprocessing
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from ctypes import c_longlong
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from customer_registry.bulk import importer
from customer_registry.bulk.formats import Format, Record, nested, records
from customer_registry.bulk.rows import SHAPES, Dialect, Row, from_records
from customer_registry.config import Settings
from customer_registry.customers.service import Outcome
from customer_registry.db import open_database
from customer_registry.vault import Vault

BATCH = 2000
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Job:
    """An import, or one process's share of it."""

    path: Path
    form: Format
    dialect: Dialect
    client_id: int
    report: Path | None
    share: int = 0
    shares: int = 1

    def takes(self, record: Record) -> bool:
        if self.shares == 1:
            return True
        number = self._customer_number(record)
        key = zlib.crc32(number.encode()) if number is not None else record.line
        return key % self.shares == self.share

    def _customer_number(self, record: Record) -> str | None:
        if record.text is not None:
            try:
                data: object = json.loads(record.text)
            except (ValueError, RecursionError):
                return None  # refused all the same, by whichever share has its line
        else:
            data = nested(record.cells or {})
        number = SHAPES[self.dialect].customer_number(data)
        return number if isinstance(number, str) else None


def run(settings: Settings, job: Job, jobs: int, advance: Advance) -> Counter[str]:
    """Import ``job``'s rows with ``jobs`` processes; the count of each outcome."""
    if jobs == 1:
        with _few_collections():
            return asyncio.run(_import(settings, job, advance))
    return _shared(settings, job, jobs, advance)


def _report_line(row: Row, outcome: Outcome) -> str:
    reasons = [{"name": r.name, "reason": r.reason} for r in outcome.reasons]
    entry = {
        "line": row.line,
        "customerNumber": row.customer_number,
        "outcome": outcome.kind,
        "reasons": reasons,
    }
    return json.dumps(entry, ensure_ascii=False) + "\n"


async def _import(settings: Settings, job: Job, advance: Advance) -> Counter[str]:
    database, vault = open_database(settings), Vault.open(settings.key_file)
    counts: Counter[str] = Counter()
    with ExitStack() as files:
        source = files.enter_context(job.path.open("rb"))
        out = files.enter_context(job.report.open("w", encoding="utf-8")) if job.report else None
        taken = (r for r in _tracked(records(source, job.form), advance) if job.takes(r))
        batched = importer.batches(from_records(taken, job.dialect, job.client_id), BATCH)
        try:
            imported = importer.run(database, vault, batched, source=job.path.name)
            async for row, outcome in imported:
                counts[outcome.kind] += 1
                if out is not None:
                    out.write(_report_line(row, outcome))
        finally:
            await database.close()
    return counts


def _tracked(found: Iterator[Record], advance: Advance) -> Iterator[Record]:
    for record in found:
        advance(record.offset)
        yield record


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


# Each share's offset in the file, shared with the processes: the slowest is the progress.
_offsets: Any = None


def _remember(offsets: Any) -> None:
    global _offsets
    _offsets = offsets


def _share(settings: Settings, job: Job) -> Counter[str]:
    """One process's share of the import."""

    def advance(offset: int) -> None:
        _offsets[job.share] = offset

    with _few_collections():
        return asyncio.run(_import(settings, job, advance))


def _shared(settings: Settings, job: Job, jobs: int, advance: Advance) -> Counter[str]:
    shares = [
        dataclasses.replace(job, share=n, shares=jobs, report=_part(job.report, n))
        for n in range(jobs)
    ]
    parts = [share.report for share in shares if share.report]
    try:
        counts = _run_shares(settings, shares, advance)
        if job.report is not None:
            _merge(parts, job.report)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return counts


def _run_shares(settings: Settings, shares: list[Job], advance: Advance) -> Counter[str]:
    # spawn, not fork: the caller may have threads (a progress bar, a test's event loop).
    context = multiprocessing.get_context("spawn")
    offsets = context.Array(c_longlong, len(shares), lock=False)
    with ProcessPoolExecutor(
        len(shares), context, initializer=_remember, initargs=(offsets,)
    ) as pool:
        futures = [pool.submit(_share, settings, share) for share in shares]
        done: set[Future[Counter[str]]] = set()
        pending = set(futures)
        while pending and not any(future.exception() for future in done):
            done, pending = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
            advance(min(offsets[:]))
        return sum((future.result() for future in futures), Counter[str]())


def _part(report: Path | None, share: int) -> Path | None:
    return report.with_name(f"{report.name}.{share}.partial") if report else None


def _merge(parts: list[Path], report: Path) -> None:
    """The shares' reports, each in file order, merged into one in file order."""
    with ExitStack() as files:
        opened: list[IO[str]] = [files.enter_context(p.open(encoding="utf-8")) for p in parts]
        out = files.enter_context(report.open("w", encoding="utf-8"))
        out.writelines(heapq.merge(*opened, key=lambda line: json.loads(line)["line"]))

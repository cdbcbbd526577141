"""Running an import: in this process, or shared out to several.

Checking a row and building what is written costs Python more than the database spends
writing it, so one process keeps one core busy and leaves the others to the database. With
several jobs the rows are split by customer number over that many processes, this one
included; each runs the whole import on its share (its own connection, batches and
transactions) and writes its own report, and the reports are merged back into file order.
All rows of one customer fall to one process, so they are still written in file order.
"""

import asyncio
import dataclasses
import gc
import heapq
import json
import multiprocessing
import re
import sys
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from ctypes import c_longlong
from dataclasses import dataclass
from functools import partial
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO, Any

import orjson

from customer_registry.bulk import Dialect, Format, importer
from customer_registry.bulk.formats import Record, nested, records
from customer_registry.bulk.importer import Doubling
from customer_registry.bulk.records import SHAPES, Row, from_records
from customer_registry.cli.app import checked_vault, private_file
from customer_registry.config import Settings
from customer_registry.customers.batches import Outcome
from customer_registry.db import open_database

BATCH = 5000
Advance = Callable[[int], None]
Running = Callable[[Advance], Counter[str]]


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

    def keeps(self, line: int, text: str) -> bool:
        """Whether the JSON line ``text`` is this share's."""
        return self._mine(_number_in(text, self.dialect), line)

    def takes(self, record: Record) -> bool:
        """Whether the record is this share's; JSON lines ``keeps`` has decided already."""
        if self.shares == 1 or record.text is not None:
            return True
        number = SHAPES[self.dialect].customer_number(nested(record.cells or {}))
        return self._mine(number if isinstance(number, str) else None, record.line)

    def _mine(self, number: str | None, line: int) -> bool:
        key = zlib.crc32(number.encode()) if number is not None else line
        return key % self.shares == self.share


# A line's one "customerNumber" member, a string, and no escapes anywhere: where the JSON
# gives the row a number, this is it, so each customer's rows still find one share (a row
# the JSON gives none is no other row's customer, whichever share reads it).
_PLAIN_NUMBER = re.compile(r'"customerNumber"\s*:\s*"([^"\\]*)"')


def _number_in(text: str, dialect: Dialect) -> str | None:
    """The customer number of a JSON line, None if it has none that can be read. Every
    process reads every line for it: most lines need no parse (0.4 us instead of 0.7)."""
    if "\\" not in text and text.count('"customerNumber"') == 1:
        found = _PLAIN_NUMBER.search(text)
        if found is not None:
            return found[1]
    number = SHAPES[dialect].customer_number(_json(text))
    return number if isinstance(number, str) else None


def _json(text: str) -> object:
    """The JSON value of a line, None if it has none. orjson takes a quarter of json's time;
    what it refuses (NaN, lone surrogates, huge numbers) json decides."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        value: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value


@contextmanager
def started(settings: Settings, job: Job, jobs: int) -> Iterator[Running]:
    """The import with its other processes started, and what runs the rest in this one.

    This process takes the first share itself. Entered before this process starts a thread
    (a progress bar), the others are forked with everything it has loaded instead of started
    fresh: a new interpreter spends a second of CPU on imports before its first row.
    """
    if jobs == 1:
        yield partial(_in_process, settings, job)
        return
    shares = [
        dataclasses.replace(job, share=n, shares=jobs, report=_part(job.report, n))
        for n in range(jobs)
    ]
    parts = [share.report for share in shares if share.report]
    try:
        with _few_collections(), _others(settings, shares[1:]) as others:
            yield partial(others.alongside, settings, shares[0])
        if job.report is not None:
            _merge(parts, job.report)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


def _in_process(
    settings: Settings, job: Job, advance: Advance, statistics: Doubling | None = None
) -> Counter[str]:
    with _few_collections():
        return asyncio.run(_import(settings, job, advance, statistics))


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
    settings: Settings, job: Job, advance: Advance, statistics: Doubling | None
) -> Counter[str]:
    database = open_database(settings)
    vault = await checked_vault(database, settings)
    counts: Counter[str] = Counter()
    with ExitStack() as files:
        source = files.enter_context(job.path.open("rb"))
        out = files.enter_context(private_file(job.report)) if job.report else None
        found = records(source, job.form, job.keeps if job.shares > 1 else None)
        taken = (record for record in _tracked(found, advance) if job.takes(record))
        batched = importer.batches(from_records(taken, job.dialect, job.client_id), BATCH)
        try:
            imported = importer.run(
                database, vault, batched, source=job.path.name, statistics=statistics
            )
            async for row, outcome in imported:
                counts[outcome.kind] += 1
                if out is not None:
                    out.write(_report_line(row, outcome))
        finally:
            await database.close()
    return counts


def _tracked(found: Iterator[Record], advance: Advance) -> Iterator[Record]:
    """The records, telling ``advance`` how far the file is read every 256 of them (every
    one cost a microsecond: shared progress, a progress bar) and at its end."""
    offset = 0
    for count, record in enumerate(found):
        if count % 256 == 0:
            advance(record.offset)
        offset = record.offset
        yield record
    advance(offset)


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


# Shared with the processes: each share's offset in the file (the slowest is the progress),
# and when the planner's statistics are due.
_offsets: Any = None
_statistics: Doubling | None = None


def _remember(offsets: Any, statistics: Doubling) -> None:
    global _offsets, _statistics
    _offsets, _statistics = offsets, statistics


def _share(settings: Settings, job: Job) -> Counter[str]:
    """One process's share of the import."""

    def advance(offset: int) -> None:
        _offsets[job.share] = offset

    return _in_process(settings, job, advance, _statistics)


def _start_method() -> BaseContext:
    """fork while this process has no other thread; else spawn, as a fork would copy the
    locks other threads hold (a progress bar's, a test's event loop's) held for good."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class _Others:
    """The processes running the shares after the first; ``offsets``: each share's progress."""

    futures: list[Future[Counter[str]]]
    offsets: Any
    statistics: Doubling

    def alongside(self, settings: Settings, job: Job, advance: Advance) -> Counter[str]:
        """Run ``job``, the first share, in this process, then wait for the others."""

        def mine(offset: int) -> None:
            self.offsets[0] = offset
            advance(min(self.offsets[:]))

        try:
            with _few_collections():
                counts = asyncio.run(_import(settings, job, mine, self.statistics))
        finally:
            self._wait(advance)
        return sum((future.result() for future in self.futures), counts)

    def _wait(self, advance: Advance) -> None:
        done: set[Future[Counter[str]]] = set()
        pending = set(self.futures)
        while pending and not any(future.exception() for future in done):
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            advance(min(self.offsets[:]))


@contextmanager
def _others(settings: Settings, shares: list[Job]) -> Iterator[_Others]:
    context = _start_method()
    offsets = context.Array(c_longlong, len(shares) + 1, lock=False)
    statistics = Doubling(context.Array(c_longlong, [0, 1], lock=False), context.Lock())
    with ProcessPoolExecutor(
        len(shares), context, initializer=_remember, initargs=(offsets, statistics)
    ) as pool:
        # Forking, the first submit starts every process, before the pool starts its thread.
        futures = [pool.submit(_share, settings, share) for share in shares]
        yield _Others(futures, offsets, statistics)


def _part(report: Path | None, share: int) -> Path | None:
    return report.with_name(f"{report.name}.{share}.partial") if report else None


def _merge(parts: list[Path], report: Path) -> None:
    """The shares' reports, each in file order, merged into one in file order."""
    with ExitStack() as files:
        opened: list[IO[str]] = [files.enter_context(p.open(encoding="utf-8")) for p in parts]
        out = files.enter_context(private_file(report))
        out.writelines(heapq.merge(*opened, key=lambda line: json.loads(line)["line"]))

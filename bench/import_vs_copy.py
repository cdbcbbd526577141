"""The real ``customer-registry import`` against a bare ``COPY`` of as many rows, in one run.

    python -m bench.import_vs_copy --rows 100000 [--jobs N] [--also OLD/src]

Creates a throwaway database ``cr_imp_<random>`` on the local PostgreSQL, migrates it, and
generates the rows of ``bench/import_rows.py`` (seed 7). The bare COPY writes the same
customers, every column filled as the service fills it (sealed personal data, blind indexes,
derived search columns, generated ids; built beforehand, not timed), with
``copy_records_to_table`` into client 1 of the indexed ``customers`` table; the import then
creates them as the next client, timed as an operator sees it (wall time of the command,
start-up included), and a second COPY once more. ``--also SRC`` first times the import of
another source tree (a checkout of an older commit: ``git archive BASE src | tar -x``) the
same way, so that versions are compared in one run. Prints the rates and each import's
ratio to the COPYs' mean (their pace drifts with the machine's), with the CPU each side
used: the import processes' own (``wait4``, workers included) and its PostgreSQL backends'
(sampled from /proc while it runs), and how busy the machine was otherwise. The database
is dropped at the end.
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from bench import compat
from bench.cpuclock import _machine_busy
from bench.load import PG_ADMIN, migrate
from bench.measure import say
from bench.seed import COLUMNS, CustomerFactory
from bench.servers import cpu_times, postgres_backends

_SUMMARY = re.compile(r"imported \d+ rows: .*")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(**PG_ADMIN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def _database() -> Iterator[tuple[str, str]]:
    name = f"cr_imp_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _records(rows: int, client_id: int) -> list[tuple[Any, ...]]:
    factory = CustomerFactory(7, sample_every=10**9)  # import_rows' seed: the same customers
    built = (factory.row(client_id, index) for index in range(rows))
    return [tuple(row[name] for name in COLUMNS) for row in built]


async def _copy(url: str, records: list[tuple[Any, ...]]) -> dict[str, float]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=10)
    try:
        await conn.execute("CHECKPOINT")
        backend = [await conn.fetchval("SELECT pg_backend_pid()")]
        before, started, busy = cpu_times(backend), time.perf_counter(), _machine_busy()
        await conn.copy_records_to_table("customers", records=records, columns=COLUMNS)
        seconds, busy = time.perf_counter() - started, _machine_busy() - busy
        db_cpu = sum(cpu_times(backend).values()) - sum(before.values())
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    # The bench's own process encodes the rows: its CPU is the COPY's client side.
    return {"seconds": seconds, "db_cpu": db_cpu, "busy": busy}


def _import(name: str, env: dict[str, str], command: list[str]) -> dict[str, Any]:
    seen: dict[int, float] = {}
    started, busy = time.perf_counter(), _machine_busy()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        while True:
            # Backends exit with the import: their CPU is read while they live.
            seen |= cpu_times(postgres_backends(name))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        seconds, busy = time.perf_counter() - started, _machine_busy() - busy
        errors.seek(0)
        output = errors.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"import failed: {output}")
    summary = _SUMMARY.search(output)
    cpu, db_cpu = usage.ru_utime + usage.ru_stime, sum(seen.values())
    return {
        "seconds": seconds,
        "cpu": cpu,
        "db_cpu": db_cpu,
        # Cores busy with anything else meanwhile (another engineer's tests, say).
        "others": max(0.0, busy - cpu - db_cpu) / seconds,
        "summary": summary[0] if summary else output.strip(),
    }


def _imported(rows: int, copy_rate: float, imported: dict[str, Any]) -> dict[str, Any]:
    import_rate = rows / imported["seconds"]
    return {
        "source": imported["source"],
        "import_rows_per_s": round(import_rate),
        "ratio": round(import_rate / copy_rate, 3),
        "import_cpu_us_per_row": round(imported["cpu"] / rows * 1e6),
        "import_db_cpu_us_per_row": round(imported["db_cpu"] / rows * 1e6),
        "other_cores_during_import": round(imported["others"], 2),
        "summary": imported["summary"],
    }


def _report(
    rows: int, copies: list[dict[str, float]], imports: list[dict[str, Any]]
) -> dict[str, Any]:
    copy_rates = [rows / copied["seconds"] for copied in copies]
    # Ratios are to the mean of the COPYs before and after: the machine's pace drifts.
    copy_rate = sum(copy_rates) / len(copy_rates)
    return {
        "rows": rows,
        "copy_rows_per_s": [round(rate) for rate in copy_rates],
        "copy_db_cpu_us_per_row": [round(c["db_cpu"] / rows * 1e6) for c in copies],
        "busy_cores_during_copies": [round(c["busy"] / c["seconds"], 2) for c in copies],
        "imports": [_imported(rows, copy_rate, imported) for imported in imports],
    }


def measure(rows: int, jobs: int | None, work: Path, sources: list[Path]) -> dict[str, Any]:
    """COPY as client 1; the import of each of ``sources`` (source trees of other versions,
    e.g. a worktree of an older commit), then this one's, as clients 2, 3, ...; COPY again."""
    compat.use_key_file(work / "bench.key")
    source = work / "import.jsonl"
    with _database() as (name, url):
        env = {**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url}
        migrate(url)
        say(f"bench: generating {rows:,} rows")
        with source.open("wb") as out:
            generate = [sys.executable, "-m", "bench.import_rows", "--rows", str(rows)]
            subprocess.run(generate, stdout=out, check=True, cwd=Path(__file__).parents[1])
        records = _records(rows, 1)
        say("bench: bare COPY")
        copies = [asyncio.run(_copy(url, records))]
        imports = []
        for client_id, tree in enumerate([*sources, None], 2):
            say(f"bench: customer-registry import ({tree or 'this tree'})")
            command = [sys.executable, "-m", "customer_registry", "import", str(source),
                       "--client-id", str(client_id)]  # fmt: skip
            command += ["--jobs", str(jobs)] if jobs else []
            # PYTHONPATH comes before the installed (editable) package.
            tree_env = {**env, "PYTHONPATH": str(tree)} if tree else env
            imports.append({**_import(name, tree_env, command), "source": str(tree or "")})
        say("bench: bare COPY again")
        again = [(len(imports) + 2, *record[1:]) for record in records]
        copies.append(asyncio.run(_copy(url, again)))
        return _report(rows, copies, imports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=None, help="the import's --jobs")
    parser.add_argument(
        "--also", type=Path, action="append", default=[], metavar="SRC",
        help="also time the import of this source tree (its src/), before this one's",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        print(json.dumps(measure(args.rows, args.jobs, Path(work), args.also)))  # noqa: T201


if __name__ == "__main__":
    main()

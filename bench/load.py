"""Throwaway databases and the bulk load of seed customers into them.

A real ``customer-registry import`` does not exist yet; this is the bulk path it would take
(COPY on PostgreSQL, executemany in large transactions on SQLite), so its rate stands in for
the import target until then.
"""

import asyncio
import multiprocessing
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import create_engine, event, insert, text

from bench.seed import COLUMNS, CustomerFactory, Sample
from customer_registry.db import customers as customers_table

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "postgres"}
# One batch is one client's whole range, so per-client unique ids are checked in one place.
Batch = tuple[int, int, int]  # client id, number of customers, random seed


@dataclass
class LoadResult:
    rows: int
    seconds: float
    db_seconds: float
    analyze_seconds: float
    sample: Sample = field(default_factory=Sample)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows / self.seconds),
            "db_seconds": round(self.db_seconds, 2),
            "db_rows_per_second": round(self.rows / max(self.db_seconds, 1e-9)),
            "analyze_seconds": round(self.analyze_seconds, 2),
            "rules_us_per_row": round(self.sample.rules_seconds / max(self.rows, 1) * 1e6, 1),
        }


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(**PG_ADMIN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> tuple[str, str]:
    """A fresh ``cr_bench_<random>`` database: its name and SQLAlchemy URL."""
    name = f"cr_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(name: str) -> None:
    if not name.startswith("cr_bench_"):  # never anything we did not create
        raise ValueError(name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate(url: str) -> None:
    env = {**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url}
    subprocess.run(["customer-registry", "migrate"], env=env, check=True, timeout=120)


def _generate(batch: Batch) -> tuple[list[tuple[Any, ...]], Sample]:
    client_id, count, seed = batch
    factory = CustomerFactory(seed, sample_every=max(1, count // 2000))
    rows = [factory.row(client_id, index) for index in range(count)]
    factory.sample.rules_seconds = factory.rules_seconds
    return [tuple(row[name] for name in COLUMNS) for row in rows], factory.sample


def _batches(customers: int, clients: list[int]) -> list[Batch]:
    per_client = customers // len(clients)
    return [(client_id, per_client, 1000 + client_id) for client_id in clients]


def _generated(customers: int, clients: list[int]) -> list[tuple[list[tuple[Any, ...]], Sample]]:
    # All rows are built first, in two processes, so the load below is timed on a quiet
    # machine: overlapping them would charge the database with the generator's CPU.
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        return pool.map(_generate, _batches(customers, clients), chunksize=1)


async def _load_pg(url: str, customers: int, clients: list[int]) -> LoadResult:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=10)
    result = LoadResult(0, 0.0, 0.0, 0.0)
    started = time.perf_counter()
    generated = _generated(customers, clients)
    try:
        for rows, sample in generated:
            copy_started = time.perf_counter()
            await conn.copy_records_to_table("customers", records=rows, columns=COLUMNS)
            result.db_seconds += time.perf_counter() - copy_started
            _merge(result, rows, sample)
        result.seconds = time.perf_counter() - started
        # Fresh statistics and visibility map, as autovacuum would leave them in production.
        analyze_started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE customers")
        result.analyze_seconds = time.perf_counter() - analyze_started
    finally:
        await conn.close()
    return result


def _merge(result: LoadResult, rows: list[tuple[Any, ...]], sample: Sample) -> None:
    result.rows += len(rows)
    result.sample.ssns += sample.ssns
    result.sample.names += sample.names
    result.sample.rules_seconds += sample.rules_seconds


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):  # the service's own settings
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _load_sqlite(path: Path, customers: int, clients: list[int]) -> LoadResult:
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _sqlite_pragmas)
    result = LoadResult(0, 0.0, 0.0, 0.0)
    started = time.perf_counter()
    generated = _generated(customers, clients)
    try:
        for rows, sample in generated:
            insert_started = time.perf_counter()
            with engine.begin() as conn:  # SQLAlchemy applies the types' bind processing
                conn.execute(
                    insert(customers_table), [dict(zip(COLUMNS, r, strict=True)) for r in rows]
                )
            result.db_seconds += time.perf_counter() - insert_started
            _merge(result, rows, sample)
        result.seconds = time.perf_counter() - started
        analyze_started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        result.analyze_seconds = time.perf_counter() - analyze_started
    finally:
        engine.dispose()
    return result


def load(url: str, customers: int, clients: list[int]) -> LoadResult:
    if url.startswith("postgresql"):
        return asyncio.run(_load_pg(url, customers, clients))
    return _load_sqlite(Path(url.split("///", 1)[1]), customers, clients)

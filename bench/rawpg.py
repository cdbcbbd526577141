"""Baselines without the service: raw asyncpg statements on the same customers table.

They bound what any Python service on this machine could reach for one primary-key read and
one upsert, so PUT and GET can be judged against the database rather than in the abstract.
"""

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.seed import COLUMNS, CustomerFactory, customer_number
from customer_registry.horizon.schemas import HORIZON_FIELDS

# The server's own ceiling: 2 workers x (pool 10 + SQLAlchemy's default overflow 10).
MAX_CONNECTIONS = 40
_DERIVED = ("phone_e164", "first_name_key", "last_name_key", "full_name_key", "company_name_key")
# With sealed personal data, an ssn or organisation number comes with its blind index.
_INDEXES = {"ssn_index", "organization_number_index"} & set(COLUMNS)
_UPDATED = sorted(HORIZON_FIELDS | set(_DERIVED) | _INDEXES)
_SELECT = (
    f"SELECT {', '.join(COLUMNS)} FROM customers WHERE client_id = $1 AND customer_number = $2"
)
_UPSERT = (
    f"INSERT INTO customers ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(COLUMNS)))}) "
    "ON CONFLICT (client_id, customer_number) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _UPDATED)
    + ", version = customers.version + 1, updated_at = excluded.updated_at "
    f"RETURNING {', '.join(COLUMNS)}"
)


@dataclass(frozen=True)
class RawResult:
    name: str
    concurrency: int
    operations: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.operations / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "operations": self.operations,
        }


Operation = Callable[[asyncpg.Connection], Awaitable[Any]]


async def _worker(pool: asyncpg.Pool, operation: Operation, deadline: float) -> list[float]:
    latencies = []
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await operation(conn)
        latencies.append(time.perf_counter() - started)
    return latencies


async def _measure(
    dsn: str, name: str, operation: Operation, *, concurrency: int, seconds: float
) -> RawResult:
    size = min(concurrency, MAX_CONNECTIONS)
    async with asyncpg.create_pool(dsn, min_size=size, max_size=size) as pool:
        warm_up = time.perf_counter() + 1  # every connection prepares its statement first
        await asyncio.gather(*(_worker(pool, operation, warm_up) for _ in range(size)))
        started = time.perf_counter()
        deadline = started + seconds
        runs = await asyncio.gather(
            *(_worker(pool, operation, deadline) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - started
    latencies = sorted(t for run in runs for t in run)
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return RawResult(
        name, concurrency, len(latencies), elapsed, statistics.median(latencies) * 1e3, p99 * 1e3
    )


def _select(clients: list[int], per_client: int) -> Operation:
    rng = random.Random(7)

    async def select(conn: asyncpg.Connection) -> Any:
        number = customer_number(rng.randrange(per_client))
        return await conn.fetchrow(_SELECT, rng.choice(clients), number)

    return select


def _upsert(clients: list[int], per_client: int) -> Operation:
    rng = random.Random(8)
    factory = CustomerFactory(9, sample_every=10**9)
    # Prepared rows, so the loop measures the database and not the row factory.
    rows = [
        factory.row(client, rng.randrange(per_client)) for client in clients for _ in range(200)
    ]
    values = [tuple(row[name] for name in COLUMNS) for row in rows]

    async def upsert(conn: asyncpg.Connection) -> Any:
        return await conn.fetchrow(_UPSERT, *rng.choice(values))

    return upsert


def measure(
    dsn: str, clients: list[int], per_client: int, *, concurrency: int, seconds: float
) -> list[RawResult]:
    dsn = dsn.replace("postgresql+asyncpg", "postgresql")
    runs = (("raw asyncpg select", _select), ("raw asyncpg upsert", _upsert))
    return [
        asyncio.run(
            _measure(dsn, name, make(clients, per_client), concurrency=concurrency, seconds=seconds)
        )
        for name, make in runs
    ]

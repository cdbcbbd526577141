"""Importing validated rows: batches of writes, each in its own transaction.

A batch is written set-wise by ``service.upsert_many``. When it fails in the database, its
transaction is rolled back and its rows are written again one by one, each in a savepoint,
so that only the row at fault is rejected and no customer is ever half-written.
"""

from collections.abc import AsyncIterator, Iterable, Iterator

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from customer_registry.bulk.rows import Row
from customer_registry.customers import bulk_repository, service
from customer_registry.customers.model import Audit, CustomerWrite
from customer_registry.customers.service import Outcome
from customer_registry.db import Store
from customer_registry.errors import InvalidParameter
from customer_registry.vault import Vault

DIALECT = "import"
Write = tuple[CustomerWrite, Audit]


def batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Consecutive rows with at most ``size`` writes, none of one customer twice.

    A customer named twice must see its first write before its second, which one set-wise
    statement cannot do: the second starts the next batch.
    """
    batch: list[Row] = []
    numbers: set[str] = set()
    for row in rows:
        number = row.write.customer.customer_number if row.write else None
        if number is not None and (number in numbers or len(numbers) >= size):
            yield batch
            batch, numbers = [], set()
        batch.append(row)
        if number is not None:
            numbers.add(number)
    if batch:
        yield batch


def _audit(source: str, line: int) -> Audit:
    # The history's request id holds 128 characters; a long file name is cut, not refused.
    return Audit(DIALECT, None, f"import:{source[:100]}:{line}")


async def run(
    engine: AsyncEngine, vault: Vault, batched: Iterable[list[Row]], *, source: str
) -> AsyncIterator[tuple[Row, Outcome]]:
    """Write the rows' writes; yields each row with what became of it, in input order."""
    async with engine.connect() as conn:
        # SQLite: take the write lock up front, as a request does (see db.py).
        await conn.execution_options(sqlite_immediate=True)
        store = Store(conn, vault)
        statistics = _Statistics()
        for batch in batched:
            writes = [(row.write, _audit(source, row.line)) for row in batch if row.write]
            outcomes = await _write(store, writes)
            await statistics.after(store, outcomes)
            written = iter(outcomes)
            for row in batch:
                yield row, next(written) if row.write else Outcome("rejected", row.reasons)


class _Statistics:
    """Refreshes the planner's statistics each time the import has doubled what it created
    since they were last refreshed: a handful of ANALYZEs, however many rows."""

    def __init__(self) -> None:
        self.created = 0
        self.next_refresh = 1

    async def after(self, store: Store, outcomes: list[Outcome]) -> None:
        self.created += sum(outcome.kind == "created" for outcome in outcomes)
        if self.created >= self.next_refresh:
            async with store.conn.begin():
                await bulk_repository.refresh_statistics(store)
            self.next_refresh = 2 * self.created


async def _write(store: Store, writes: list[Write]) -> list[Outcome]:
    if not writes:
        return []
    try:
        async with store.conn.begin():
            return await service.upsert_many(store, writes)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
    return await _one_by_one(store, writes)


async def _one_by_one(store: Store, writes: list[Write]) -> list[Outcome]:
    outcomes = []
    async with store.conn.begin():
        for write, audit in writes:
            try:
                async with store.conn.begin_nested():
                    outcome = await service.upsert_one(store, write, audit)
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise
                reason = str(exc.orig).splitlines()[0] if exc.orig else "failed"
                outcome = Outcome("rejected", (InvalidParameter("body", f"database: {reason}"),))
            outcomes.append(outcome)
    return outcomes

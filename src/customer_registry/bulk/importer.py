"""Importing validated rows: batches of writes, each in its own transaction.

A batch is written set-wise by ``batches.upsert_many``. When it fails in the database, its
transaction is rolled back and its rows are written again one by one, each in a savepoint,
so that only the row at fault is rejected and no customer is ever half-written.
"""

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from customer_registry.bulk.records import Row
from customer_registry.customers import bulk_repository
from customer_registry.customers.batches import Outcome, upsert_many, upsert_one
from customer_registry.customers.model import Audit, CustomerWrite
from customer_registry.db import Database, DatabaseError, Store
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


class Counts(Protocol):
    """Two counts: a list, or an array shared by processes."""

    def __getitem__(self, index: int, /) -> int: ...
    def __setitem__(self, index: int, value: int, /) -> None: ...


class Doubling:
    """Refresh the planner's statistics each time the import has doubled the customers it
    created since they were last refreshed: a handful of ANALYZEs, however many rows.

    ``state`` holds the customers created and the count due next; several processes share
    it, and a ``lock``, so that between them they refresh as often as one process would.
    """

    def __init__(
        self,
        state: Counts | None = None,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.state = state if state is not None else [0, 1]
        self.lock = lock or nullcontext()

    def due(self, created: int) -> bool:
        """Count ``created`` more; whether the statistics are to be refreshed now."""
        with self.lock:
            total = self.state[0] = self.state[0] + created
            if total < self.state[1]:
                return False
            self.state[1] = 2 * total
            return True


async def run(
    database: Database,
    vault: Vault,
    batched: Iterable[list[Row]],
    *,
    source: str,
    statistics: Doubling | None = None,
) -> AsyncIterator[tuple[Row, Outcome]]:
    """Write the rows' writes; yields each row with what became of it, in input order.

    ``statistics``: when to refresh the planner's statistics, shared by the processes of an
    import that has several.
    """
    doubling = statistics or Doubling()
    for batch in batched:
        writes = [(row.write, _audit(source, row.line)) for row in batch if row.write]
        outcomes = await _write(database, vault, writes)
        if doubling.due(sum(outcome.kind == "created" for outcome in outcomes)):
            async with database.transaction() as conn:
                await bulk_repository.refresh_statistics(Store(conn, vault))
        written = iter(outcomes)
        for row in batch:
            yield row, next(written) if row.write else Outcome("rejected", row.reasons)


async def _write(database: Database, vault: Vault, writes: list[Write]) -> list[Outcome]:
    if not writes:
        return []
    try:
        async with database.transaction() as conn:
            return await upsert_many(Store(conn, vault), writes)
    except DatabaseError:
        pass  # rolled back: find the row at fault
    return await _one_by_one(database, vault, writes)


async def _one_by_one(database: Database, vault: Vault, writes: list[Write]) -> list[Outcome]:
    outcomes = []
    async with database.transaction() as conn:
        store = Store(conn, vault)
        for write, audit in writes:
            try:
                async with conn.savepoint():
                    outcome = await upsert_one(store, write, audit)
            except DatabaseError as exc:
                reason = str(exc).splitlines()[0] if str(exc) else "failed"
                outcome = Outcome("rejected", (InvalidParameter("body", f"database: {reason}"),))
            outcomes.append(outcome)
    return outcomes

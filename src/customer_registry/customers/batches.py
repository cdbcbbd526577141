"""Use cases of the import and export: many customers of one client at a time.

An import writes each row as the API would (``service.save``), but set-wise: one lock for a
batch, then a few statements for all its creates and a few for all its updates. A refused
row is an ``Outcome``, not an exception, so the rest of the batch goes on.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from customer_registry.customers import bulk_repository, changes, service
from customer_registry.customers.model import (
    UNCONDITIONAL,
    Audit,
    Customer,
    CustomerWrite,
    HistoryEntry,
)
from customer_registry.customers.service import WriteOutcome
from customer_registry.db import Store
from customer_registry.errors import AppError, InvalidParameter


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an import did with one write; ``reasons`` say why it was rejected."""

    kind: WriteOutcome | Literal["rejected"]
    reasons: tuple[InvalidParameter, ...] = ()


def _rejected(error: AppError) -> Outcome:
    if error.invalid_parameters:
        return Outcome("rejected", tuple(error.invalid_parameters))
    return Outcome("rejected", (InvalidParameter("body", error.message),))


async def upsert_one(store: Store, write: CustomerWrite, audit: Audit) -> Outcome:
    """``upsert`` for imports: a refused write is an outcome, not an exception."""
    try:
        return Outcome((await service.save(store, write, audit, UNCONDITIONAL, may_create=True))[1])
    except AppError as error:
        return _rejected(error)


async def upsert_many(store: Store, writes: Sequence[tuple[CustomerWrite, Audit]]) -> list[Outcome]:
    """``upsert_one`` for each write, set-wise: one lock, then a few statements for all the
    creates and a few for all the updates.

    The writes belong to one client and name distinct customers. A create that the insert
    skips (created meanwhile, or a clash of identifiers) is redone by ``upsert_one``.
    """
    if not writes:
        return []
    numbers = [write.customer.customer_number for write, _ in writes]
    stored = await bulk_repository.lock_many(store, writes[0][0].customer.client_id, numbers)
    now = datetime.now(UTC)
    creates = [
        (w.customer, audit) for w, audit in writes if w.customer.customer_number not in stored
    ]
    skipped = await bulk_repository.create_many(store, creates, now)
    plans = {
        number: changes.planned(stored[number], write, audit, now)
        for write, audit in writes
        if (number := write.customer.customer_number) in stored
    }
    await bulk_repository.update_many(store, [plan for plan in plans.values() if plan])
    return [
        await upsert_one(store, write, audit)
        if write.customer.customer_number in skipped
        else _kind(write.customer.customer_number, plans)
        for write, audit in writes
    ]


def _kind(number: str, plans: dict[str, tuple[Customer, HistoryEntry] | None]) -> Outcome:
    """What became of the accepted write of customer ``number`` (``plans``: the updates')."""
    if number not in plans:
        return Outcome("created")
    return Outcome("unchanged" if plans[number] is None else "updated")


def export(store: Store, client_id: int, *, batch: int = 1000) -> AsyncIterator[Customer]:
    """The client's customers in customer-number order, ``batch`` at a time in memory."""
    return bulk_repository.stream(store, client_id, batch=batch)

"""Personal data rights in domain words: the export of everything about a customer (GDPR
Art. 15 and 20) and its erasure (Art. 17). Never commits: the caller's transaction holds
each use case whole, so a concurrent write sees the customer before or after, never half
erased."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from customer_registry.customers import outbox, repository, reveal_repository
from customer_registry.customers.changes import DATA_FIELDS
from customer_registry.customers.errors import CustomerNotFound
from customer_registry.customers.history_repository import history
from customer_registry.customers.model import EXPORTED, IDENTITY_FIELDS, Audit, Customer
from customer_registry.db import Store
from customer_registry.errors import NotFound
from customer_registry.events import schemas as events
from customer_registry.history.schemas import from_history
from customer_registry.horizon.schemas import from_customer as horizon_view
from customer_registry.privacy import repository as stored
from customer_registry.subscriptions.schemas import from_customer as subscriptions_view

_HIDDEN = frozenset({"client_id", "data_key"})


@dataclass(frozen=True, slots=True)
class Erasure:
    """What erasing a customer removes."""

    client_id: int
    customer_number: str
    fields: tuple[str, ...]  # the canonical fields that have a value
    history_entries: int
    events: int
    stored_answers: int
    reveals: int


async def _locked(store: Store, client_id: int, customer_number: str) -> Customer:
    customer = await repository.lock(store, client_id, customer_number)
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    return customer


def _valued_fields(customer: Customer) -> tuple[str, ...]:
    return tuple(
        name
        for name in DATA_FIELDS
        if name not in IDENTITY_FIELDS and getattr(customer, name) is not None
    )


async def planned_erasure(store: Store, client_id: int, customer_number: str) -> Erasure:
    """What ``erase`` would remove now (``--dry-run``)."""
    customer = await _locked(store, client_id, customer_number)
    return (await _plan(store, customer))[0]


async def _plan(store: Store, customer: Customer) -> tuple[Erasure, dict[str, Any]]:
    """What erasing ``customer`` removes, and the tombstones it leaves."""
    conn, key = store.conn, (customer.client_id, customer.customer_number)
    history, reveals = await stored.history_rows(conn, *key), await stored.reveals(conn, *key)
    erasure = Erasure(
        *key,
        _valued_fields(customer),
        history_entries=len(history),
        events=await stored.event_count(conn, *key),
        stored_answers=await stored.stored_answers(conn, *key),
        reveals=len(reveals),
    )
    tombstones = {
        "history": [stored.tombstone(row) for row in history],
        "accesses": [_access(row) for row in reveals],
    }
    return erasure, tombstones


async def erase(store: Store, client_id: int, customer_number: str, audit: Audit) -> Erasure:
    """Erase the customer: its row and data key, the values of its history (tombstones stay,
    in the erasure's record), its reveals, the stored answers about it and the data in its
    events; append its ``customer.erased`` event. CustomerNotFound if there is none."""
    customer = await _locked(store, client_id, customer_number)
    plan, tombstones = await _plan(store, customer)
    now = datetime.now(UTC)
    record = {
        "client_id": client_id,
        "customer_number": customer_number,
        "erased_at": now,
        "source": audit.dialect,
        "credential_id": audit.credential_id,
        "request_id": audit.request_id,
        "last_version": customer.version,
    }
    await stored.erase(store.conn, record, tombstones)
    await outbox.scrub(store.conn, client_id, customer_number)
    await outbox.append_many(store, [_erased_event(customer, plan, now, audit)])
    if store.appended is not None:
        store.appended(audit.dialect)
    return plan


def _erased_event(customer: Customer, plan: Erasure, at: datetime, audit: Audit) -> Any:
    return outbox.erasure(
        client_id=customer.client_id,
        customer_number=customer.customer_number,
        version=customer.version + 1,
        at=at,
        audit=audit,
        fields=plan.fields,
    )


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def canonical(customer: Customer) -> dict[str, Any]:
    """Every field of the canonical record, personal identifiers in clear."""
    return {
        outbox.camel(name): _plain(getattr(customer, name))
        for name in customer.__dataclass_fields__
        if name not in _HIDDEN
    }


async def export(
    store: Store, client_id: int, customer_number: str, by: str, request_id: str | None
) -> dict[str, Any]:
    """Everything stored about the customer, in clear, recorded as an access (``by``: who)."""
    customer = await _locked(store, client_id, customer_number)
    conn, now = store.conn, datetime.now(UTC)
    document = {
        "clientId": client_id,
        "customerNumber": customer_number,
        "exportedAt": now.isoformat(),
        "customer": canonical(customer),
        "representations": {
            "horizon": horizon_view(customer, ""),
            "subscriptions": subscriptions_view(customer),
        },
        "history": from_history(await history(store, client_id, customer_number))["items"],
        "events": [
            events.event(row, store.vault)
            for row in await stored.events(conn, client_id, customer_number)
        ],
        "accesses": [
            _access(row) for row in await stored.reveals(conn, client_id, customer_number)
        ],
    }
    await reveal_repository.add(
        conn, client_id, customer_number, operator_name=by, fields=[EXPORTED], at=now,
        request_id=request_id,
    )  # fmt: skip
    return document


def _access(row: Any) -> dict[str, Any]:
    """An earlier reveal or export: when, by whom, what."""
    return {
        "at": row["revealed_at"].isoformat(),
        "by": row["operator_name"],
        "what": row["fields"].split(","),
        "requestId": row["request_id"],
    }


async def erasures(store: Store, client_id: int, customer_number: str | None) -> list[Any]:
    """The client's erasure records (of one customer number, if given), oldest first."""
    return await stored.erasures(store.conn, client_id, customer_number)


class CustomerErased(CustomerNotFound):
    title = "Customer erased"

    def __init__(self, client_id: int, customer_number: str, erased_at: datetime) -> None:
        NotFound.__init__(
            self,
            f"customer {customer_number!r} of client {client_id} was erased on "
            f"{erased_at.astimezone(UTC):%Y-%m-%d at %H:%M} UTC: nothing of its data is kept "
            "(customer-registry personal-data erasures shows the record)",
        )


async def missing(store: Store, client_id: int, customer_number: str) -> CustomerNotFound:
    """Why the customer is not there: erased (when), or never stored."""
    records = await stored.erasures(store.conn, client_id, customer_number)
    if records:
        return CustomerErased(client_id, customer_number, records[-1]["erased_at"])
    return CustomerNotFound(client_id, customer_number)

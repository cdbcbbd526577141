"""What operators do with customers (the console): find them, read them with national IDs
masked, reveal those on purpose (recorded), and trace who changed what.

Never imports FastAPI, never commits.
"""

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from customer_registry.customers import browse_repository, history_repository, phones, rules
from customer_registry.customers import reveal_repository as reveals
from customer_registry.customers.browse_repository import NAME_KEY_NAMES
from customer_registry.customers.errors import CustomerNotFound
from customer_registry.customers.model import SEALED_FIELDS, Customer, HistoryEntry, Reveal
from customer_registry.customers.service import masked, masked_entry
from customer_registry.db import Store

BrowseField = Literal[
    "any", "customerNumber", "name", "nationalId", "organizationNumber", "phone", "email"
]
Position = tuple[str, str]  # a page starts after this (sort key, customer number)
# Shown masked until an operator reveals them: the national ID and the tax number (in Norway
# the same number).
MASKED_FIELDS = frozenset({"ssn", "tax_identification_number"})
IDENTIFIED_LIMIT = 50
# Rounds of the name streams for one page: a round reads at least one new row, and only rows
# that match through two names at once (a first name and a last name) are skipped.
_ROUNDS = 8
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_END = datetime(9999, 1, 1, tzinfo=UTC)
_LATEST = 2**31 - 1


@dataclass(frozen=True, slots=True)
class BrowseQuery:
    text: str = ""
    field: BrowseField = "any"
    after: Position | None = None
    per_page: int = 25


@dataclass(frozen=True, slots=True)
class BrowsePage:
    """``identified``: customers whose identifier is the text (``any``: first page only);
    ``items``: the page of names (or of identifiers, or of every customer); ``next``: where
    the next page starts, None on the last."""

    identified: list[Customer]
    items: list[Customer]
    next: Position | None


def _paged(customers: list[Customer], per_page: int) -> BrowsePage:
    more = len(customers) > per_page
    items = customers[:per_page]
    return BrowsePage([], items, ("", items[-1].customer_number) if more else None)


def _identifiers(store: Store, client_id: int, text: str, field: BrowseField) -> dict[str, str]:
    """The identifier values ``text`` may be, by kind (``field``: that kind only)."""
    blind = store.vault.blind_index(text, client_id)
    values: dict[str, str | None] = {
        "customerNumber": text,
        "nationalId": blind,
        "organizationNumber": blind,
        "phone": phones.phone_e164(text),
        "email": rules.email_key(text) if "@" in text or field == "email" else None,
    }
    wanted = values if field == "any" else {field: values.get(field)}
    return {kind: value for kind, value in wanted.items() if value is not None}


async def browse(store: Store, client_id: int, query: BrowseQuery) -> BrowsePage:
    """A page of the client's customers matching the query, at the same cost on any page."""
    text, after = query.text.strip(), query.after or ("", "")
    limit = query.per_page + 1
    if not text:
        found = await browse_repository.listing(store, client_id, after[1], limit)
        return _paged(found, query.per_page)
    if query.field == "name":
        return await _names(store, client_id, text, after, query.per_page)
    values = _identifiers(store, client_id, text, query.field)
    if query.field != "any":
        found = await _exact(store, client_id, values, after[1], limit)
        return _paged(found, query.per_page)
    identified = []
    if query.after is None:
        identified = await _exact(store, client_id, values, "", IDENTIFIED_LIMIT)
    names = await _names(store, client_id, text, after, query.per_page)
    return dataclasses.replace(names, identified=identified)


async def _exact(
    store: Store, client_id: int, values: dict[str, str], after: str, limit: int
) -> list[Customer]:
    if not values:
        return []
    return await browse_repository.exact(store, client_id, values, after, limit)


def _canonical(row: Any, prefix: str) -> str:
    """The smallest of the row's name keys that starts with ``prefix``: the one place the
    customer takes in a name search, whichever names match."""
    keys: list[str] = [row[name] for name in NAME_KEY_NAMES if row[name] is not None]
    return min(key for key in keys if key.startswith(prefix))


def _horizon(rows: list[Any], limit: int) -> Position | None:
    """The position up to which every stream's rows were read: the smallest last position
    of the streams that filled their limit (None: every stream was read to its end)."""
    counts: dict[int, int] = {}
    last: dict[int, Position] = {}
    for row in rows:
        counts[row["stream"]] = counts.get(row["stream"], 0) + 1
        last[row["stream"]] = (row["sort_key"], row["customer_number"])
    full = [last[stream] for stream, count in counts.items() if count >= limit]
    return min(full) if full else None


async def _names(
    store: Store, client_id: int, text: str, after: Position, per_page: int
) -> BrowsePage:
    """A page of the customers one of whose names starts with ``text``, by (name, number):
    the three name streams merged, each customer once, at its ``_canonical`` place."""
    prefix = rules.name_key(text)
    if prefix is None:
        return BrowsePage([], [], None)
    accepted: list[tuple[Position, Any]] = []
    horizon: Position | None = after
    for _ in range(_ROUNDS):
        rows = await browse_repository.name_streams(store, client_id, prefix, after, per_page + 1)
        horizon = _horizon(rows, per_page + 1)
        accepted += _accepted(rows, prefix, horizon, {n for _, n in accepted})
        if len(accepted) > per_page or horizon is None:
            break
        after = horizon
    items = [browse_repository.customer_of(store, row) for _, row in accepted[:per_page]]
    more = len(accepted) > per_page
    return BrowsePage([], items, accepted[per_page - 1][0] if more else horizon)


def _accepted(
    rows: list[Any], prefix: str, horizon: Position | None, seen: set[Any]
) -> list[tuple[Position, Any]]:
    """The rows up to ``horizon`` at their canonical place, in order, each customer once."""
    accepted = []
    for row in sorted(rows, key=lambda r: (r["sort_key"], r["customer_number"])):
        position: Position = (row["sort_key"], row["customer_number"])
        number = row["customer_number"]
        if horizon is not None and position > horizon:
            break
        if number in seen or row["sort_key"] != _canonical(row, prefix):
            continue
        seen.add(number)
        accepted.append((position, row))
    return accepted


async def card(store: Store, client_id: int, customer_number: str) -> Customer:
    """The customer, its national ID and tax number masked."""
    customer = await browse_repository.get(store, client_id, customer_number, SEALED_FIELDS)
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    return dataclasses.replace(
        customer,
        ssn=_masked_text(customer.ssn),
        tax_identification_number=_masked_text(customer.tax_identification_number),
    )


def _masked_text(value: str | None) -> str | None:
    return None if value is None else str(masked(value))


async def reveal(
    store: Store, client_id: int, customer_number: str, operator_name: str
) -> Customer:
    """The customer unmasked; the reveal of its masked fields is recorded by name."""
    customer = await browse_repository.get(store, client_id, customer_number, SEALED_FIELDS)
    if customer is None:
        raise CustomerNotFound(client_id, customer_number)
    shown = [name for name in sorted(MASKED_FIELDS) if getattr(customer, name) is not None]
    if shown:
        await reveals.add(
            store.conn,
            client_id,
            customer_number,
            operator_name=operator_name,
            fields=shown,
            at=datetime.now(UTC),
        )
    return customer


@dataclass(frozen=True, slots=True)
class Timeline:
    """Changes and reveals, newest first; ``older``: the version the next page starts at."""

    items: list[HistoryEntry | Reveal]
    older: int | None


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def timeline(
    store: Store, client_id: int, customer_number: str, *, through: int | None, limit: int
) -> Timeline:
    """Up to ``limit`` changes from version ``through`` (None: the latest) down, masked, with
    the reveals made meanwhile."""
    start = _LATEST if through is None else through + 1
    entries = await history_repository.newest(
        store, client_id, customer_number, through=start, limit=limit + 2
    )
    until = _END
    if entries and through is not None and entries[0].version == start:
        until = _aware(entries.pop(0).changed_at)
    shown = [dataclasses.replace(masked_entry(e), changed_at=_aware(e.changed_at)) for e in entries]
    older = shown[limit].version if len(shown) > limit else None
    shown = shown[:limit]
    since = shown[-1].changed_at if older is not None else _BEGINNING
    found = await reveals.between(store.conn, client_id, customer_number, since, until)
    items: list[HistoryEntry | Reveal] = [*shown, *found]
    items.sort(key=lambda item: _moment(item), reverse=True)
    return Timeline(items, older)


def _moment(item: HistoryEntry | Reveal) -> datetime:
    return item.changed_at if isinstance(item, HistoryEntry) else item.revealed_at


async def clients(store: Store, operator_id: str | None) -> list[tuple[int, int]]:
    """Clients and their numbers of customers (``operator_id``: only those it was given)."""
    return await browse_repository.clients(store.conn, operator_id)

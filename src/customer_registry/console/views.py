"""What the console's templates show, built from the domain's values: labels, times in UTC,
and both APIs' representations of a customer, each through its own dialect's mapping."""

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

import orjson

from customer_registry.customers.browse import MASKED_FIELDS
from customer_registry.customers.model import Customer, HistoryEntry, Reveal
from customer_registry.horizon import schemas as horizon
from customer_registry.subscriptions import schemas as subscriptions

_HIDDEN = frozenset({"client_id"})


def camel(name: str) -> str:
    """A canonical field's name as the APIs and the history name it: ``firstName``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def name_of(customer: Customer) -> str:
    person = " ".join(part for part in (customer.first_name, customer.last_name) if part)
    return person or customer.company_name or "(no name)"


def canonical_fields(customer: Customer) -> list[tuple[str, str, bool]]:
    """(name, value, masked) of each canonical field, in the record's order."""
    return [
        (camel(f.name), shown(getattr(customer, f.name)), f.name in MASKED_FIELDS)
        for f in fields(Customer)
        if f.name not in _HIDDEN
    ]


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def dialect_views(customer: Customer) -> dict[str, str]:
    """The customer as each API answers a GET (links relative: they name no host)."""
    return {
        "Horizon": _json(horizon.from_customer(customer, "")),
        "Subscriptions": _json(subscriptions.from_customer(customer)),
    }


@dataclass(frozen=True, slots=True)
class TimelineItem:
    kind: str  # "change" or "reveal"
    when: str
    who: str
    title: str
    changes: list[tuple[str, str, str]]


def _change(entry: HistoryEntry, labels: dict[str, str]) -> TimelineItem:
    credential = entry.audit.credential_id
    who = labels.get(credential or "", credential or "no credential (import or CLI)")
    created = entry.version == 1
    title = f"{'Created' if created else 'Changed'} through {entry.audit.dialect}"
    changes = [(camel(c.field), shown(c.old), shown(c.new)) for c in entry.changes]
    return TimelineItem(
        "change", moment(entry.changed_at), who, f"v{entry.version} · {title}", changes
    )


def _reveal(reveal: Reveal) -> TimelineItem:
    revealed = ", ".join(camel(name) for name in reveal.fields)
    title = f"Revealed {revealed}"
    return TimelineItem("reveal", moment(reveal.revealed_at), reveal.operator_name, title, [])


def timeline(items: list[HistoryEntry | Reveal], labels: dict[str, str]) -> list[TimelineItem]:
    return [
        _change(item, labels) if isinstance(item, HistoryEntry) else _reveal(item) for item in items
    ]


def credential_ids(items: list[HistoryEntry | Reveal]) -> set[str]:
    return {
        item.audit.credential_id
        for item in items
        if isinstance(item, HistoryEntry) and item.audit.credential_id
    }

"""The history representation."""

from typing import Any

from pydantic import BaseModel

from customer_registry.customers.model import HistoryEntry


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def from_history(entries: list[HistoryEntry]) -> dict[str, Any]:
    return {
        "items": [
            {
                "version": entry.version,
                "changedAt": entry.changed_at.isoformat(),
                "dialect": entry.audit.dialect,
                "credentialId": entry.audit.credential_id,
                "requestId": entry.audit.request_id,
                "changes": [
                    {"field": _camel(change.field), "old": change.old, "new": change.new}
                    for change in entry.changes
                ],
            }
            for entry in entries
        ]
    }


class ChangeOut(BaseModel):
    field: str
    old: str | int | bool | None
    new: str | int | bool | None


class EntryOut(BaseModel):
    version: int
    changedAt: str
    dialect: str
    credentialId: str | None
    requestId: str | None
    changes: list[ChangeOut]


class HistoryOut(BaseModel):
    items: list[EntryOut]

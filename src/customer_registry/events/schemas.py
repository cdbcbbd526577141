"""The event and webhook representations, and the feed's cursors."""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, UrlConstraints

from customer_registry.customers.model import Customer
from customer_registry.customers.outbox import organization_context
from customer_registry.errors import InvalidParameter, RequestInvalid
from customer_registry.horizon import responses as horizon
from customer_registry.horizon.schemas import from_customer
from customer_registry.http.openapi import Omitted, Representation
from customer_registry.vault import Vault

EventType = Literal["customer.created", "customer.updated", "customer.erased"]
Source = Literal["horizon", "subscriptions", "import", "registry"]


def rfc3339(moment: datetime) -> str:
    """``2026-12-02T09:30:00.123456Z``: UTC, as the feed and the webhooks write times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cursor(client_id: int, position: int) -> str:
    """The opaque ``next`` of a feed page: where the next page starts."""
    return base64.urlsafe_b64encode(f"{client_id}:{position}".encode()).decode().rstrip("=")


def cursor_position(value: str, client_id: int, name: str = "after") -> int:
    """The position a cursor of ``client_id`` names; 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        owner, position = (int(part) for part in raw.split(":"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        owner, position = -1, -1
    if owner != client_id or position < 0:
        reason = "must be the 'next' of an earlier page of this client's events"
        raise RequestInvalid([InvalidParameter(name, reason)])
    return position


def _customer(row: Any, vault: Vault) -> dict[str, Any]:
    """The customer of an event: the Horizon representation without ``_links``."""
    sealed = row["organization_number"]
    client_id = row["client_id"]
    where = organization_context(client_id, row["event_id"])
    customer = Customer(
        client_id=client_id,
        customer_number=row["customer_number"],
        organization_number=None if sealed is None else vault.decrypt(sealed, where),
        **orjson.loads(row["customer"]),
    )
    body = from_customer(customer, "")
    del body["_links"]
    return body


def event(row: Any, vault: Vault) -> dict[str, Any]:
    """An event as the feed shows it and a webhook sends it; absent members are omitted."""
    body: dict[str, Any] = {
        "id": row["event_id"],
        "type": row["type"],
        "clientId": row["client_id"],
        "customerNumber": row["customer_number"],
        "version": row["version"],
        "occurredAt": rfc3339(row["occurred_at"]),
        "source": row["source"],
    }
    if row["request_id"] is not None:
        body["requestId"] = row["request_id"]
    body["changedFields"] = orjson.loads(row["changed_fields"])
    if row["previous"] is not None:
        body["previous"] = orjson.loads(row["previous"])
    if row["customer"] is not None:
        body["customer"] = _customer(row, vault)
    return body


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def webhook(row: Any) -> dict[str, Any]:
    """An endpoint as listed: never its secret."""
    types = row["event_types"]
    return {
        "id": row["id"],
        "url": row["url"],
        "eventTypes": json.loads(types) if types else None,
        "createdAt": rfc3339(row["created_at"]),
        "status": "enabled" if row["disabled_at"] is None else "disabled",
        "failingSince": _moment(row["failing_since"]),
        "lastError": row["last_error"],
        "pendingDeliveries": row["pending"],
        "failedDeliveries": row["failed"],
    }


class EventCustomerOut(Representation):
    """The Horizon representation of the customer after the change, without ``_links``."""

    customerNumber: str
    type: Literal["Person", "Company"]
    person: horizon.PersonOut | Omitted = None
    company: horizon.CompanyOut | Omitted = None
    phoneNumber: str | Omitted = None
    email: str | Omitted = None
    paymentMeans: horizon.PaymentMeansOut
    address: horizon.AddressOut | Omitted = None


class EventOut(Representation):
    id: str = Field(description="Unique and stable; also the webhook-id of its deliveries")
    type: EventType
    clientId: int
    customerNumber: str
    version: int = Field(description="The customer's version after the change")
    occurredAt: str = Field(description="When the change was made, RFC 3339 in UTC")
    source: Source = Field(description="What made the change: an API, an import, the registry")
    requestId: str | Omitted = Field(None, description="The X-Request-ID of the change's request")
    changedFields: list[str] = Field(description="Changed fields, by their canonical names")
    previous: dict[str, Any] | Omitted = Field(
        None,
        description="customer.updated: the old values of the changed fields, except personal "
        "identifiers (ssn, organizationNumber, birthDate, taxIdentificationNumber), which are "
        "named in changedFields only",
    )
    customer: EventCustomerOut | Omitted = Field(
        None, description="The customer after the change; absent for customer.erased"
    )


class FeedOut(Representation):
    events: list[EventOut] = Field(description="In commit order")
    next: str = Field(description="Pass as `after` to get the events that follow")


WebhookUrl = Annotated[AnyUrl, UrlConstraints(max_length=2048, allowed_schemes=["https", "http"])]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(
        description="https:// (http:// and private addresses only where the operator allows)"
    )
    eventTypes: list[EventType] | None = Field(
        None, min_length=1, description="The types to deliver; absent: every type"
    )


class WebhookOut(Representation):
    id: str
    url: str
    eventTypes: list[EventType] | None = Field(description="null: every type")
    createdAt: str
    status: Literal["enabled", "disabled"]
    failingSince: str | None = Field(description="First failure since the last success")
    lastError: str | None
    pendingDeliveries: int = Field(description="Deliveries being retried or waiting behind one")
    failedDeliveries: int = Field(description="Deliveries given up after the retries")


class WebhookCreatedOut(Representation):
    id: str
    url: str
    eventTypes: list[EventType] | None
    secret: str = Field(description="The signing secret (whsec_...): shown only now")


class WebhookListOut(Representation):
    items: list[WebhookOut]

"""The canonical customer record: the union of both dialects' fields (spec A.4, B.2)."""

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Literal

CustomerType = Literal["Person", "Company"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    client_id: int
    customer_number: str
    type: CustomerType
    first_name: str | None = None
    last_name: str | None = None
    ssn: str | None = None
    company_name: str | None = None
    organization_number: str | None = None
    phone_number: str | None = None
    mobile_phone: str | None = None
    email: str | None = None
    street: str | None = None
    street_number: str | None = None
    street_number_additional: str | None = None
    care_of: str | None = None
    address_line3: str | None = None
    postal_code: str | None = None
    postal_place: str | None = None
    country_code: str | None = None
    existing_customer: bool | None = None
    individual_risk_score: str | None = None
    salutation: str | None = None
    birth_date: date | None = None
    language: str | None = None
    tax_identification_number: str | None = None
    payment_registration_id: str | None = None
    psp_customer_id: str | None = None
    psp_payment_method_id: str | None = None
    # Assigned by the store at creation and never changed afterwards.
    payment_id: str = ""
    internal_number: str = ""
    sign_up_id: int = 0
    version: int = 0
    # The customer's own key, wrapped (vault.DataKey): its sealed values are encrypted under it.
    data_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


CUSTOMER_FIELDS = tuple(f.name for f in fields(Customer))
IDENTITY_FIELDS = frozenset({"client_id", "customer_number"})
STORE_FIELDS = frozenset(
    {
        "payment_id",
        "internal_number",
        "sign_up_id",
        "version",
        "data_key",
        "created_at",
        "updated_at",
    }
)


@dataclass(frozen=True, slots=True)
class CustomerWrite:
    """A dialect's write: the customer as the dialect sees it, and the fields it owns.

    Fields outside ``owned`` keep their stored values, so a write through one dialect never
    erases what only the other dialect knows.
    """

    customer: Customer
    owned: frozenset[str]


SearchColumn = Literal["clientId", "customerNumber", "name", "ssn", "organizationNumber"]
SortOrder = Literal["asc", "desc"]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    column: SearchColumn
    value: str
    page: int = 1
    per_page: int = 100
    sort: SearchColumn = "customerNumber"
    order: SortOrder = "desc"


@dataclass(frozen=True, slots=True)
class SearchResult:
    items: list[Customer]
    total: int


LookupField = Literal["PhoneNumber", "IdentificationNumber"]


@dataclass(frozen=True, slots=True)
class LookupKey:
    field: LookupField
    value: str


@dataclass(frozen=True, slots=True)
class Condition:
    """What a write expects of the stored customer (HTTP If-Match / If-None-Match: *).

    ``versions``: the write applies only to a stored customer at one of these versions;
    ``any_version``: only to a stored customer; ``create_only``: only when none is stored.
    """

    versions: frozenset[int] | None = None
    any_version: bool = False
    create_only: bool = False

    @property
    def needs_existing(self) -> bool:
        return self.any_version or self.versions is not None


UNCONDITIONAL = Condition()


# Personal data: encrypted at rest, masked in the history.
SEALED_FIELDS = frozenset({"ssn", "organization_number", "tax_identification_number", "birth_date"})


@dataclass(frozen=True, slots=True)
class Locked:
    """A customer read and locked before its write (None: no such customer yet)."""

    customer: "Customer | None"


@dataclass(frozen=True, slots=True)
class Audit:
    """Who makes a write, for the history."""

    dialect: str
    credential_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: object
    new: object


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    client_id: int
    customer_number: str
    version: int
    changed_at: datetime
    audit: Audit
    changes: tuple[FieldChange, ...]


# What a reveal record names in place of fields for an export of all personal data.
EXPORTED = "personal-data export"


@dataclass(frozen=True, slots=True)
class Reveal:
    """An operator was shown a customer's masked personal data (``fields``), or someone
    exported all of it (``fields``: ``EXPORTED``)."""

    revealed_at: datetime
    operator_name: str
    fields: tuple[str, ...]

"""Import and export rows in the registry's own shape: the canonical customer, lossless.

Every data field of ``Customer`` under its camelCase name (write-only ones included) and the
generated identifiers; the client comes from the command line, and the version, times and
history stay with the store. Values are checked by the rules both dialects share and the
limits of the store's columns, so whatever either dialect stored passes.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from stdnum import luhn

from customer_registry.customers import fields
from customer_registry.customers.changes import DATA_FIELDS
from customer_registry.customers.fields import (
    CleanText,
    CountryCode,
    Email,
    LanguageCode,
    Text10,
    Text20,
    Text50,
    Text100,
    length,
    present,
)
from customer_registry.customers.model import (
    IDENTITY_FIELDS,
    Customer,
    CustomerType,
    CustomerWrite,
)
from customer_registry.errors import CustomerInformationMissing, InvalidParameter
from customer_registry.subscriptions.schemas import BirthDate

Required = Annotated[CleanText, length(100, 1)]


def _payment_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]{21}", value) or not luhn.is_valid(value):
        raise ValueError("must be 21 digits ending in a Luhn check digit")
    return value


def _internal_number(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]{8}", value):
        raise ValueError("must be 9 digits, the first not 0")
    return value


class CustomerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customerNumber: Annotated[CleanText, length(100, 1)]
    type: CustomerType
    firstName: Text50 | None = None
    lastName: Text50 | None = None
    ssn: Text20 | None = None
    companyName: Annotated[CleanText, length(140)] | None = None
    organizationNumber: Text20 | None = None
    phoneNumber: Text20 | None = None
    mobilePhone: Text20 | None = None
    email: Annotated[Email, length(255)] | None = None
    street: Required
    streetNumber: Text10 | None = None
    streetNumberAdditional: Text10 | None = None
    careOf: Text100 | None = None
    addressLine3: Text100 | None = None
    postalCode: Annotated[CleanText, length(10, 1)]
    postalPlace: Required
    countryCode: CountryCode
    existingCustomer: StrictBool | None = None
    individualRiskScore: Annotated[CleanText, length(50)] | None = None
    salutation: (
        Annotated[Literal["MR", "MRS", "MS", "MISS"], BeforeValidator(fields.upper_case)] | None
    ) = None
    birthDate: BirthDate | None = None
    language: LanguageCode | None = None
    taxIdentificationNumber: Text20 | None = None
    paymentRegistrationId: Text100 | None = None
    pspCustomerId: Text100 | None = None
    pspPaymentMethodId: Text100 | None = None
    paymentId: Annotated[str, AfterValidator(_payment_id)] | None = None
    internalNumber: Annotated[str, AfterValidator(_internal_number)] | None = None
    signUpId: Annotated[int, Field(strict=True, ge=100_000_000, le=999_999_999)] | None = None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_OWNED = frozenset(DATA_FIELDS) - IDENTITY_FIELDS
_FIELDS = {_camel(name): name for name in DATA_FIELDS if name != "client_id"}
_IDENTIFIERS = {"paymentId": "payment_id", "internalNumber": "internal_number"}
CSV_COLUMNS = (*_FIELDS, "paymentId", "internalNumber", "signUpId")


def _missing(record: CustomerRecord) -> list[InvalidParameter]:
    """The names both dialects require, so that the customer reads back through both."""
    required = ("firstName", "lastName") if record.type == "Person" else ("companyName",)
    return [InvalidParameter(name, "is required") for name in required if not getattr(record, name)]


def to_write(data: object, client_id: int) -> CustomerWrite:
    """Raises pydantic's ValidationError or RequestInvalid. Identifiers apply to creates."""
    record = CustomerRecord.model_validate(data)
    if missing := _missing(record):
        raise CustomerInformationMissing(missing)
    values = {name: getattr(record, camel) for camel, name in _FIELDS.items()}
    customer = Customer(
        client_id=client_id,
        **values,
        payment_id=record.paymentId or "",
        internal_number=record.internalNumber or "",
        sign_up_id=record.signUpId or 0,
    )
    return CustomerWrite(customer, _OWNED)


def customer_number(data: object) -> object:
    return data.get("customerNumber") if isinstance(data, dict) else None


def to_row(customer: Customer) -> dict[str, Any]:
    row = {camel: getattr(customer, name) for camel, name in _FIELDS.items()}
    if customer.birth_date is not None:
        row["birthDate"] = customer.birth_date.isoformat()
    # A customer read from the store has all three; one not yet stored has none.
    row |= {camel: getattr(customer, name) or None for camel, name in _IDENTIFIERS.items()}
    row["signUpId"] = customer.sign_up_id or None
    return present(row)

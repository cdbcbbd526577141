"""Subscriptions request/response models and the mapping to and from the canonical customer.

Field mapping (the table in docs/decisions.md says the same in prose):
customerCategory <-> type, firstName/lastName <-> person, companyName <-> company name,
identificationNumber <-> ssn (PERSON) or organisation number (COMPANY), phone <-> phoneNumber,
street + streetNumber + streetNumberAdditional <-> addressLine, careOf <-> addressLine2.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, WithJsonSchema

from customer_registry.customers import fields
from customer_registry.customers.fields import (
    CleanText,
    CountryCode,
    CustomerNumber,
    Email,
    LanguageCode,
    Text10,
    Text20,
    Text100,
    Visible20,
    Visible40,
    VisibleText,
    length,
    present,
)
from customer_registry.customers.model import Customer, CustomerType, CustomerWrite
from customer_registry.errors import CustomerInformationMissing, InvalidParameter, RequestInvalid

Category = Literal["PERSON", "COMPANY"]
Salutation = Literal["MR", "MRS", "MS", "MISS"]
BirthDate = Annotated[
    date,
    BeforeValidator(fields.birth_date),
    AfterValidator(fields.past_date),
    WithJsonSchema(
        {
            "type": "string",
            "anyOf": [{"format": "date"}, {"format": "date-time"}],
            "description": "Not in the future; a date-time is truncated to its date",
        }
    ),
]

_TYPES: dict[Category, CustomerType] = {"PERSON": "Person", "COMPANY": "Company"}
_CATEGORIES: dict[CustomerType, Category] = {v: k for k, v in _TYPES.items()}


class AddressIn(BaseModel):
    careOf: Visible40 | None = None
    countryCode: CountryCode
    postalCode: Annotated[VisibleText, length(10, 1)]
    postalPlace: Annotated[VisibleText, length(40, 1)]
    street: Annotated[VisibleText, length(60, 1)]
    streetNumber: Text10 | None = None
    streetNumberAdditional: Text10 | None = None


class CustomerIn(BaseModel):
    address: AddressIn
    birthDate: BirthDate | None = None
    companyName: Annotated[VisibleText, length(140)] | None = None
    customerCategory: Annotated[Category, BeforeValidator(fields.upper_case)]
    customerNumber: CustomerNumber
    email: Annotated[Email, length(241)] | None = None
    firstName: Visible40 | None = None
    identificationNumber: Text20 | None = None
    language: LanguageCode | None = None
    lastName: Visible40 | None = None
    mobilePhone: Visible20 | None = None
    phone: Visible20 | None = None
    salutation: Annotated[Salutation, BeforeValidator(fields.upper_case)] | None = None
    taxIdentificationNumber: Text20 | None = None


class PaymentRegistrationIn(BaseModel):
    id: Annotated[CleanText, length(100, 1)]
    pspCustomerId: Text100 | None = None
    pspPaymentMethodId: Text100 | None = None


class CustomerRequest(BaseModel):
    customer: CustomerIn
    paymentRegistration: PaymentRegistrationIn


_SHARED_FIELDS = frozenset(
    {
        "type", "salutation", "first_name", "last_name", "company_name", "birth_date",
        "tax_identification_number", "email", "phone_number", "mobile_phone", "language",
        "street", "street_number", "street_number_additional", "care_of", "postal_code",
        "postal_place", "country_code", "payment_registration_id", "psp_customer_id",
        "psp_payment_method_id",
    }
)  # fmt: skip


def _missing_information(customer: CustomerIn) -> list[InvalidParameter]:
    required: dict[str, str | None] = (
        {"customer.firstName": customer.firstName, "customer.lastName": customer.lastName}
        if customer.customerCategory == "PERSON"
        else {"customer.companyName": customer.companyName}
    )
    return [InvalidParameter(name, "is required") for name, value in required.items() if not value]


def _or_none(value: str | None) -> str | None:
    """The API sends "" for an absent value (e.g. ``careOf``, ``companyName``)."""
    return value or None


def to_customer(
    body: CustomerRequest, client_id: int, path_number: str | None = None
) -> CustomerWrite:
    """The canonical customer a Subscriptions POST or PUT describes."""
    customer, address, payment = body.customer, body.customer.address, body.paymentRegistration
    if path_number is not None and customer.customerNumber != path_number:
        reason = f"must equal the customer number in the path ({path_number!r})"
        raise RequestInvalid([InvalidParameter("customer.customerNumber", reason)])
    if missing := _missing_information(customer):
        raise CustomerInformationMissing(missing)
    kind = _TYPES[customer.customerCategory]
    id_field = "ssn" if kind == "Person" else "organization_number"
    identification = _or_none(customer.identificationNumber)
    canonical = Customer(
        client_id=client_id,
        customer_number=customer.customerNumber,
        type=kind,
        salutation=customer.salutation,
        first_name=_or_none(customer.firstName),
        last_name=_or_none(customer.lastName),
        company_name=_or_none(customer.companyName),
        birth_date=customer.birthDate,
        tax_identification_number=_or_none(customer.taxIdentificationNumber),
        email=_or_none(customer.email),
        phone_number=_or_none(customer.phone),
        mobile_phone=_or_none(customer.mobilePhone),
        language=_or_none(customer.language),
        street=address.street,
        street_number=_or_none(address.streetNumber),
        street_number_additional=_or_none(address.streetNumberAdditional),
        care_of=_or_none(address.careOf),
        postal_code=address.postalCode,
        postal_place=address.postalPlace,
        country_code=address.countryCode,
        payment_registration_id=payment.id,
        psp_customer_id=_or_none(payment.pspCustomerId),
        psp_payment_method_id=_or_none(payment.pspPaymentMethodId),
        ssn=identification if kind == "Person" else None,
        organization_number=identification if kind == "Company" else None,
    )
    return CustomerWrite(canonical, _SHARED_FIELDS | {id_field})


def sign_up(customer: Customer) -> dict[str, Any]:
    """The POST/PUT answer: Riverty's internal number, the merchant's number as reference."""
    return {
        "signUpId": customer.sign_up_id,
        "customerNumber": customer.internal_number,
        "externalCustomerReference": customer.customer_number,
        "contracts": [],
    }


def _members(customer: Customer) -> dict[str, Any]:
    """The customer's Subscriptions members, in the order of the documented GET example."""
    identification = customer.ssn if customer.type == "Person" else customer.organization_number
    address = {
        "street": customer.street,
        "postalCode": customer.postal_code,
        "postalPlace": customer.postal_place,
        "countryCode": customer.country_code,
        "streetNumber": customer.street_number,
        "streetNumberAdditional": customer.street_number_additional,
        "careOf": customer.care_of,
    }
    return {
        "customerNumber": customer.customer_number,
        "salutation": customer.salutation,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "address": present(address),
        "taxIdentificationNumber": customer.tax_identification_number,
        "identificationNumber": identification,
        "email": customer.email,
        "companyName": customer.company_name,
        "birthDate": customer.birth_date.isoformat() if customer.birth_date else None,
        "language": customer.language,
        "customerCategory": None,
        "phone": customer.phone_number,
        "mobilePhone": customer.mobile_phone,
    }


def from_customer(customer: Customer) -> dict[str, Any]:
    """The flat GET representation, in the order of the documented example."""
    category = _CATEGORIES[customer.type]
    shown = {"companyName": customer.company_name or "", "customerCategory": category}
    return present(_members(customer) | shown)


def to_request(customer: Customer) -> dict[str, Any]:
    """The POST body that writes the customer's Subscriptions fields (an import row)."""
    category = "PERSON" if customer.type == "Person" else "COMPANY"
    payment = {
        "id": customer.payment_registration_id,
        "pspCustomerId": customer.psp_customer_id,
        "pspPaymentMethodId": customer.psp_payment_method_id,
    }
    members = present(_members(customer) | {"customerCategory": category})
    return {"customer": members, "paymentRegistration": present(payment)}

"""The Horizon responses as the OpenAPI document describes them (schemas.from_customer)."""

from typing import Literal

from pydantic import Field

from customer_registry.http.conditional import ETAG_HEADER
from customer_registry.http.openapi import Omitted, Representation, example, link


class LinkOut(Representation):
    href: str
    rel: str
    method: str


class PersonOut(Representation):
    firstName: str | Omitted = None
    lastName: str | Omitted = None


class CompanyOut(Representation):
    name: str | Omitted = None
    organizationNumber: str | Omitted = None


class AddressOut(Representation):
    addressLine: str
    addressLine2: str | Omitted = None
    addressLine3: str | Omitted = None
    postalCode: str
    postalPlace: str
    countryCode: str


class PaymentMeansOut(Representation):
    paymentId: str


class CustomerOut(Representation):
    links: list[LinkOut] = Field(alias="_links")
    customerNumber: str
    type: Literal["Person", "Company", "Undefined"]
    person: PersonOut | Omitted = None
    company: CompanyOut | Omitted = None
    phoneNumber: str | Omitted = None
    email: str | Omitted = None
    paymentMeans: PaymentMeansOut
    address: AddressOut | Omitted = None


class SearchOut(Representation):
    items: list[CustomerOut]
    total: int


_THIS_CUSTOMER = {
    "clientId": "$request.path.clientId",
    "customerNumber": "$response.body#/customerNumber",
}
_READ_LINKS = {
    "GetCustomer": link("horizon_get_customer", _THIS_CUSTOMER, "Read this customer"),
    "CheckCustomer": link("horizon_check_customer", _THIS_CUSTOMER, "Check this customer"),
    "GetHistory": link("registry_get_history", _THIS_CUSTOMER, "This customer's change history"),
}
_IF_UNCHANGED = {**_THIS_CUSTOMER, "header.if-match": "$response.header.ETag"}
_IF_CHANGED = {**_THIS_CUSTOMER, "header.if-none-match": "$response.header.ETag"}

CUSTOMER = {
    "model": CustomerOut,
    "description": "The customer; the ETag header carries its version",
    "headers": ETAG_HEADER,
    "links": _READ_LINKS,
}
GET_CUSTOMER = {
    **CUSTOMER,
    "links": {
        **_READ_LINKS,
        "GetIfChanged": link("horizon_get_customer", _IF_CHANGED, "304 until it changes"),
    },
}
PUT_CUSTOMER = {
    **CUSTOMER,
    "content": {"application/json": {"example": example("horizon_put_response")}},
    "links": {
        **_READ_LINKS,
        "PutIfUnchanged": link(
            "horizon_put_customer",
            _IF_UNCHANGED,
            "Write again, only if nobody changed it meanwhile",
            body="$request.body",
        ),
    },
}
PUT_REQUEST = {
    "requestBody": {"content": {"application/json": {"example": example("horizon_put_request")}}}
}
# The seed person's phone number: found in the store once the PUT example has run.
LOOKUP_REQUEST = {
    "requestBody": {
        "content": {
            "application/json": {
                "example": {"lookup": {"type": "PhoneNumber", "value": "+4712345678"}}
            }
        }
    }
}
HEAD_CUSTOMER = {
    "description": "The customer exists; the headers of its GET, no body",
    "headers": ETAG_HEADER,
}

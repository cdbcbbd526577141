"""The Subscriptions responses as the OpenAPI document describes them (schemas.sign_up and
schemas.from_customer), with the documented examples."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from customer_registry.errors import AppError, NotAuthenticated
from customer_registry.http.conditional import ETAG_HEADER, NOT_MODIFIED_RESPONSE
from customer_registry.http.openapi import Omitted, Representation, example, link
from customer_registry.http.problems import problem_responses
from customer_registry.subscriptions.schemas import Category, Salutation


class SignUpOut(Representation):
    signUpId: int
    customerNumber: str
    externalCustomerReference: str
    contracts: list[dict[str, Any]]


class AddressOut(Representation):
    street: str | Omitted = None
    postalCode: str | Omitted = None
    postalPlace: str | Omitted = None
    countryCode: str | Omitted = None
    streetNumber: str | Omitted = None
    streetNumberAdditional: str | Omitted = None
    careOf: str | Omitted = None


class CustomerOut(Representation):
    customerNumber: str
    salutation: Salutation | Omitted = None
    firstName: str | Omitted = None
    lastName: str | Omitted = None
    address: AddressOut
    taxIdentificationNumber: str | Omitted = None
    identificationNumber: str | Omitted = None
    email: str | Omitted = None
    companyName: str
    birthDate: date | Omitted = None
    language: str | Omitted = None
    customerCategory: Category
    phone: str | Omitted = None
    mobilePhone: str | Omitted = None


class GatewayRejection(BaseModel):
    """A rejected subscription key, in the body Riverty's API gateway sends (spec B.1)."""

    statusCode: Literal[401]
    message: str


def gateway_rejection(error: AppError) -> tuple[dict[str, Any], str] | None:
    """The Subscriptions dialect of an error: the gateway's body for a rejected key."""
    if isinstance(error, NotAuthenticated):
        return {"statusCode": error.status, "message": error.message}, "application/json"
    return None


_GATEWAY_401 = {
    "model": GatewayRejection,
    "description": "Missing or invalid subscription key",
    "content": {
        "application/json": {
            "example": {
                "statusCode": 401,
                "message": "Access denied due to missing subscription key. Make sure to "
                "include subscription key when making requests to an API.",
            }
        }
    },
}
_ANSWERED = {"customerNumber": "$response.body#/externalCustomerReference"}
_REQUESTED = {"customerNumber": "$request.path.customerNumber"}
_READ = link("subscriptions_get_customer", _ANSWERED, "Read the customer just written")
_WRITE_AGAIN = link("subscriptions_update_customer", _ANSWERED, "Update it", body="$request.body")
_IF_CHANGED = {**_REQUESTED, "header.if-none-match": "$response.header.ETag"}


def _ok(
    model: type[Representation], description: str, answer: str, links: dict[str, Any]
) -> dict[str, Any]:
    """A 200 with the ETag, the documented example ``answer`` and ``links``."""
    content = {"application/json": {"example": example(answer)}}
    return {
        "model": model,
        "description": description,
        "headers": ETAG_HEADER,
        "content": content,
        "links": links,
    }


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {**problem_responses(*statuses), 401: _GATEWAY_401}


def _request(name: str) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"example": example(name)}}}}


_SIGN_UP = "subscriptions_sign_up_response"
_SIGN_UP_LINKS = {"GetCustomer": _READ, "UpdateCustomer": _WRITE_AGAIN}
POST_RESPONSES = {
    200: _ok(SignUpOut, "Created, or updated if the number is known", _SIGN_UP, _SIGN_UP_LINKS),
    **_errors(400, 403, 409, 413, 415, 422),
}
POST_REQUEST = _request("subscriptions_post_request")
PUT_RESPONSES = {
    200: _ok(SignUpOut, "Updated", _SIGN_UP, _SIGN_UP_LINKS),
    **_errors(400, 403, 404, 409, 412, 413, 415, 422),
}
PUT_REQUEST = _request("subscriptions_put_request")
GET_RESPONSES = {
    200: _ok(
        CustomerOut,
        "The customer; the ETag header carries its version",
        "subscriptions_get_response",
        {"GetIfChanged": link("subscriptions_get_customer", _IF_CHANGED, "304 until it changes")},
    ),
    304: NOT_MODIFIED_RESPONSE,
    **_errors(400, 403, 404),
}

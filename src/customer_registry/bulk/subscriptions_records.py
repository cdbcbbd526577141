"""Import and export rows in the Subscriptions dialect: the POST body.

A row is validated by the POST's own model and ``to_customer``, so it is accepted or refused
exactly as the POST would be, with the same JSON paths in the reasons.
"""

from typing import Any

from customer_registry.customers.model import Customer, CustomerWrite
from customer_registry.subscriptions import schemas

_CUSTOMER = (
    "customerNumber", "customerCategory", "salutation", "firstName", "lastName", "companyName",
    "identificationNumber", "taxIdentificationNumber", "birthDate", "language", "email",
    "phone", "mobilePhone",
)  # fmt: skip
_ADDRESS = (
    "street", "streetNumber", "streetNumberAdditional", "careOf", "postalCode", "postalPlace",
    "countryCode",
)  # fmt: skip
CSV_COLUMNS = (
    *(f"customer.{name}" for name in _CUSTOMER),
    *(f"customer.address.{name}" for name in _ADDRESS),
    "paymentRegistration.id",
    "paymentRegistration.pspCustomerId",
    "paymentRegistration.pspPaymentMethodId",
)


def to_write(data: object, client_id: int) -> CustomerWrite:
    """Raises pydantic's ValidationError or the POST's RequestInvalid."""
    return schemas.to_customer(schemas.CustomerRequest.model_validate(data), client_id)


def customer_number(data: object) -> object:
    customer = data.get("customer") if isinstance(data, dict) else None
    return customer.get("customerNumber") if isinstance(customer, dict) else None


def to_row(customer: Customer) -> dict[str, Any]:
    """The POST body that writes the customer's Subscriptions fields."""
    return schemas.to_request(customer)

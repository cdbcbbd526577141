"""Import and export rows in the Horizon dialect: the PUT body plus its ``customerNumber``.

A row is validated by the PUT's own model and ``to_customer``, so it is accepted or refused
exactly as the PUT would be, with the same JSON paths in the reasons.
"""

from typing import Any

from customer_registry.customers.fields import CustomerNumber, present
from customer_registry.customers.model import Customer, CustomerWrite
from customer_registry.horizon import schemas

CSV_COLUMNS = (
    "customerNumber", "type", "person.ssn", "person.firstName", "person.lastName",
    "company.name", "company.organizationNumber", "phoneNumber", "email",
    "address.addressLine", "address.addressLine2", "address.addressLine3",
    "address.postalCode", "address.postalPlace", "address.countryCode",
    "existingCustomer", "individualRiskScore",
)  # fmt: skip


class CustomerRow(schemas.CustomerIn):
    """The PUT body with the path's customer number as a member."""

    customerNumber: CustomerNumber


def to_write(data: object, client_id: int) -> CustomerWrite:
    """Raises pydantic's ValidationError or the PUT's RequestInvalid."""
    row = CustomerRow.model_validate(data)
    return schemas.to_customer(row, client_id, row.customerNumber)


def customer_number(data: object) -> object:
    return data.get("customerNumber") if isinstance(data, dict) else None


def to_row(customer: Customer) -> dict[str, Any]:
    """The PUT body that writes the customer's Horizon fields, with its number."""
    members = {
        "customerNumber": customer.customer_number,
        "type": customer.type,
        "person": schemas.compact(
            {"ssn": customer.ssn, "firstName": customer.first_name, "lastName": customer.last_name}
        ),
        "company": schemas.compact(
            {"name": customer.company_name, "organizationNumber": customer.organization_number}
        ),
        "phoneNumber": customer.phone_number,
        "email": customer.email,
        "address": schemas.address(customer),
        "existingCustomer": customer.existing_customer,
        "individualRiskScore": customer.individual_risk_score,
    }
    return present(members)

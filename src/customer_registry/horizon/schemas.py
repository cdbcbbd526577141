"""Horizon request/response models and the mapping to and from the canonical customer."""

from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
)

from customer_registry.customers import fields, rules
from customer_registry.customers.fields import (
    CleanText,
    CountryCode,
    CustomerNumber,
    Email,
    Line100,
    Name50,
    Text20,
    Visible20,
    VisibleText,
    length,
    present,
)
from customer_registry.customers.model import (
    Customer,
    CustomerType,
    CustomerWrite,
    LookupField,
    LookupKey,
    SearchColumn,
)
from customer_registry.errors import CustomerInformationMissing, InvalidParameter, RequestInvalid

Required100 = Annotated[VisibleText, length(100, 1)]
RiskScore = Annotated[
    CleanText,
    BeforeValidator(fields.risk_score),
    length(50),
    fields.Documented({"type": ["string", "number"]}),
]

_TYPES: dict[Any, CustomerType] = {
    "person": "Person",
    "company": "Company",
    1: "Person",
    2: "Company",
}


def _customer_type(value: Any) -> Any:
    # The backend is .NET: its enum parser takes names case-insensitively and the numbers
    # the reference documents (Person : 1, Company : 2).
    # Objects and arrays cannot be looked up (unhashable): they fail as themselves.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    return _TYPES.get(value.lower() if isinstance(value, str) else value, value)


class PersonIn(BaseModel):
    ssn: Text20 | None = None
    firstName: Name50 | None = None
    lastName: Name50 | None = None


class CompanyIn(BaseModel):
    name: Annotated[VisibleText, length(140)] | None = None
    organizationNumber: Text20 | None = None


class AddressIn(BaseModel):
    addressLine: Required100
    addressLine2: Line100 | None = None
    addressLine3: Line100 | None = None
    postalCode: Annotated[VisibleText, length(10, 1)]
    postalPlace: Required100
    countryCode: CountryCode


_TYPE_SCHEMA = {
    "anyOf": [
        {"type": "string", "enum": ["Person", "Company"]},
        {"type": "integer", "enum": [1, 2]},
    ],
    "description": "Person or Company in any case, or the backend's numbers 1 and 2",
}


class CustomerIn(BaseModel):
    type: Annotated[CustomerType, BeforeValidator(_customer_type), WithJsonSchema(_TYPE_SCHEMA)]
    person: PersonIn | None = None
    company: CompanyIn | None = None
    phoneNumber: Visible20 | None = None
    email: Annotated[Email, length(255)] | None = None
    address: AddressIn
    existingCustomer: StrictBool | None = None
    individualRiskScore: RiskScore | None = None


HORIZON_FIELDS = frozenset(
    {
        "type", "first_name", "last_name", "ssn", "company_name", "organization_number",
        "phone_number", "email", "street", "street_number", "street_number_additional",
        "care_of", "address_line3", "postal_code", "postal_place", "country_code",
        "existing_customer", "individual_risk_score",
    }
)  # fmt: skip


def _missing_information(body: CustomerIn) -> list[InvalidParameter]:
    person, company = body.person or PersonIn(), body.company or CompanyIn()
    required: dict[str, str | None] = (
        {"person.firstName": person.firstName, "person.lastName": person.lastName}
        if body.type == "Person"
        else {"company.name": company.name}
    )
    return [InvalidParameter(name, "is required") for name, value in required.items() if not value]


def _national_id_problems(body: CustomerIn) -> list[InvalidParameter]:
    country = body.address.countryCode
    person, company = body.person or PersonIn(), body.company or CompanyIn()
    candidates: tuple[tuple[str, str | None, CustomerType], ...] = (
        ("person.ssn", person.ssn, "Person"),
        ("company.organizationNumber", company.organizationNumber, "Company"),
    )
    problems = []
    for name, value, kind in candidates:
        reason = value and rules.national_id_problem(value, customer_type=kind, country=country)
        if reason:
            problems.append(InvalidParameter(name, reason))
    return problems


def to_customer(body: CustomerIn, client_id: int, customer_number: str) -> CustomerWrite:
    """The canonical customer a Horizon PUT describes; raises on incomplete data."""
    if missing := _missing_information(body):
        raise CustomerInformationMissing(missing)
    if invalid := _national_id_problems(body):
        raise RequestInvalid(invalid)
    person, company, address = body.person or PersonIn(), body.company or CompanyIn(), body.address
    customer = Customer(
        client_id=client_id,
        customer_number=customer_number,
        type=body.type,
        first_name=person.firstName,
        last_name=person.lastName,
        ssn=person.ssn,
        company_name=company.name,
        organization_number=company.organizationNumber,
        phone_number=body.phoneNumber,
        email=body.email,
        street=address.addressLine,
        care_of=address.addressLine2,
        address_line3=address.addressLine3,
        postal_code=address.postalCode,
        postal_place=address.postalPlace,
        country_code=address.countryCode,
        existing_customer=body.existingCustomer,
        individual_risk_score=body.individualRiskScore,
    )
    return CustomerWrite(customer, HORIZON_FIELDS)


def compact(members: dict[str, Any]) -> dict[str, Any] | None:
    """The members that are set; None when none is."""
    return present(members) or None


def _address_line(customer: Customer) -> str | None:
    number = "".join(p for p in (customer.street_number, customer.street_number_additional) if p)
    return " ".join(p for p in (customer.street, number) if p) or None


def links(base_url: str, client_id: int, customer_number: str) -> list[dict[str, str]]:
    customers_url = f"{base_url}/customer/v1/clients/{client_id}/customers"
    self_url = f"{customers_url}/{quote(customer_number, safe='')}"
    search = "/search?page={Page}&perPage={PerPage}&sort={byFieldName}&order={ASC/DESC}"
    return [
        {"href": self_url, "rel": "_self", "method": "GET"},
        {"href": self_url, "rel": "check_customer", "method": "HEAD"},
        {"href": self_url, "rel": "update_customer", "method": "PUT"},
        {"href": customers_url + search, "rel": "search_customer_by_field", "method": "POST"},
    ]


def address(customer: Customer) -> dict[str, Any] | None:
    """The ``address`` member, as the representation shows it and a PUT writes it."""
    return compact(
        {
            "addressLine": _address_line(customer),
            "addressLine2": customer.care_of,
            "addressLine3": customer.address_line3,
            "postalCode": customer.postal_code,
            "postalPlace": customer.postal_place,
            "countryCode": customer.country_code,
        }
    )


# The only sealed field the representation shows: reads decrypt no other.
SHOWN_SEALED = frozenset({"organization_number"})


def from_customer(customer: Customer, base_url: str) -> dict[str, Any]:
    """The Horizon representation (spec A.4.2): documented order, absent members omitted."""
    members = {
        "_links": links(base_url, customer.client_id, customer.customer_number),
        "customerNumber": customer.customer_number,
        "type": customer.type,
        "person": compact({"firstName": customer.first_name, "lastName": customer.last_name}),
        "company": compact(
            {"name": customer.company_name, "organizationNumber": customer.organization_number}
        ),
        "phoneNumber": customer.phone_number,
        "email": customer.email,
        "paymentMeans": {"paymentId": customer.payment_id},
        "address": address(customer),
    }
    return present(members)


_COLUMNS: dict[str, SearchColumn] = {
    name.lower(): name
    for name in ("clientId", "customerNumber", "name", "ssn", "organizationNumber")
}


def _search_column(value: Any) -> Any:
    return _COLUMNS.get(value.lower(), value) if isinstance(value, str) else value


SearchColumnIn = Annotated[SearchColumn, BeforeValidator(_search_column)]


class SearchIn(BaseModel):
    searchValue: Annotated[CleanText, length(200)]
    searchColumn: SearchColumnIn


class SearchParams(BaseModel):
    page: int = Field(default=1, ge=1, le=2**31 - 1)
    perPage: int = Field(default=100, ge=1, le=1000)
    sort: SearchColumnIn = "customerNumber"
    order: Annotated[
        Literal["asc", "desc"], BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)
    ] = "desc"


_LOOKUP_FIELDS: dict[str, LookupField] = {
    "phonenumber": "PhoneNumber",
    "identificationnumber": "IdentificationNumber",
}
LookupFieldIn = Annotated[
    LookupField,
    BeforeValidator(lambda v: _LOOKUP_FIELDS.get(v.lower(), v) if isinstance(v, str) else v),
]


class LookupSpec(BaseModel):
    type: LookupFieldIn
    value: Annotated[CleanText, length(100, 1)]


class LookupIn(BaseModel):
    """Both request formats of spec A.5.5: ``lookupField``/``lookupValue`` and ``lookup``."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["lookup"], "properties": {"lookup": {"type": "object"}}},
                {
                    "required": ["lookupField", "lookupValue"],
                    "properties": {
                        "lookupField": {"type": "string"},
                        "lookupValue": {"type": "string"},
                    },
                },
            ]
        }
    )

    lookupField: LookupFieldIn | None = None
    lookupValue: Annotated[CleanText, length(100, 1)] | None = None
    customerNumber: CustomerNumber | None = None
    individualRiskScore: RiskScore | None = None
    lookup: LookupSpec | None = None

    def key(self) -> LookupKey:
        if self.lookup is not None:
            return LookupKey(self.lookup.type, self.lookup.value)
        if self.lookupField is not None and self.lookupValue is not None:
            return LookupKey(self.lookupField, self.lookupValue)
        names = ["lookup.type", "lookup.value"]
        raise CustomerInformationMissing([InvalidParameter(n, "is required") for n in names])

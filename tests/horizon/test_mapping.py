"""The Horizon mapping: a customer read and written back is the same customer."""

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from customer_registry.customers.model import Customer, CustomerType
from customer_registry.horizon import schemas

_BASE = "https://registry.test"

# Short: the mapping does not depend on lengths, and long texts cost milliseconds to draw.
_TEXT = st.text("abcxyzÆØÅé 0123456789-'.", min_size=1, max_size=10).filter(str.strip)
_MAYBE = st.none() | _TEXT
_PHONE = st.sampled_from(["+4712345678", "22 33 44 55", ""])
_EMAIL = st.sampled_from(["tom@mail.com", "Å.Ø@blåbær.no", ""])


@st.composite
def _customers(draw: st.DrawFn) -> Customer:
    """Customers as Horizon writes them: a street without a separate number."""
    kind: CustomerType = draw(st.sampled_from(["Person", "Company"]))
    person, company = kind == "Person", kind == "Company"
    return Customer(
        client_id=draw(st.integers(1, 2**31 - 1)),
        customer_number=draw(st.sampled_from(["c1", "LU 1/2", "ø?#"])),
        type=kind,
        first_name=draw(_TEXT if person else _MAYBE),
        last_name=draw(_TEXT if person else _MAYBE),
        ssn=draw(st.none() | st.just("02016126007")),
        company_name=draw(_TEXT if company else _MAYBE),
        organization_number=draw(st.none() | st.just("123456785")),
        phone_number=draw(st.none() | _PHONE),
        email=draw(st.none() | _EMAIL),
        street=draw(_TEXT),
        care_of=draw(_MAYBE),
        address_line3=draw(_MAYBE),
        postal_code=draw(_TEXT),
        postal_place=draw(_TEXT),
        country_code=draw(st.sampled_from(["NO", "SE", "DE"])),
        existing_customer=draw(st.none() | st.booleans()),
        individual_risk_score=draw(st.none() | st.sampled_from(["1", "high"])),
        payment_id="123456789012345678906",
    )


# What the representation does not show: a PUT of what a GET shows leaves them out.
_NOT_SHOWN = {"ssn": None, "existing_customer": None, "individual_risk_score": None}


def _put_body(representation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in representation.items() if k not in {"_links", "paymentMeans"}}


@given(_customers())
def test_a_put_of_what_a_get_shows_writes_the_customer_it_shows(customer: Customer) -> None:
    shown = schemas.from_customer(customer, _BASE)

    body = schemas.CustomerIn.model_validate(_put_body(shown))
    written = schemas.to_customer(body, customer.client_id, customer.customer_number)

    expected = {name: getattr(customer, name) for name in schemas.HORIZON_FIELDS} | _NOT_SHOWN
    assert {name: getattr(written.customer, name) for name in written.owned} == expected
    stored = dataclasses.replace(written.customer, payment_id=customer.payment_id)
    assert schemas.from_customer(stored, _BASE) == shown


def test_a_street_number_shows_in_the_address_line_and_a_put_of_it_stores_the_line() -> None:
    customer = Customer(client_id=7, customer_number="c1", type="Company", company_name="ACME",
                        street="Storgata", street_number="5", street_number_additional="A",
                        postal_code="0155", postal_place="Oslo", country_code="NO")  # fmt: skip
    shown = schemas.from_customer(customer, _BASE)

    body = schemas.CustomerIn.model_validate(_put_body(shown))
    written = schemas.to_customer(body, 7, "c1").customer

    assert shown["address"]["addressLine"] == "Storgata 5A"
    assert (written.street, written.street_number, written.street_number_additional) == (
        "Storgata 5A", None, None,
    )  # fmt: skip

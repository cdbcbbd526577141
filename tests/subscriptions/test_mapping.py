"""The Subscriptions mapping: a customer sent, stored and read back is the customer sent."""

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from customer_registry.customers.model import Customer, CustomerType
from customer_registry.subscriptions import schemas

# Short: the mapping does not depend on lengths, and long texts cost milliseconds to draw.
_TEXT = st.text("abcxyzÆØÅé 0123456789-'.", min_size=1, max_size=10).filter(str.strip)
_MAYBE = st.none() | _TEXT


@st.composite
def _customers(draw: st.DrawFn) -> Customer:
    """Customers as Subscriptions writes them: the identification number is the ssn of a
    Person, the organisation number of a Company."""
    kind: CustomerType = draw(st.sampled_from(["Person", "Company"]))
    person = kind == "Person"
    identification = draw(_MAYBE)
    return Customer(
        client_id=draw(st.integers(1, 2**31 - 1)),
        customer_number=draw(st.sampled_from(["c1", "LU 1/2", "ø?#"])),
        type=kind,
        salutation=draw(st.none() | st.sampled_from(["MR", "MRS", "MS", "MISS"])),
        first_name=draw(_TEXT if person else _MAYBE),
        last_name=draw(_TEXT if person else _MAYBE),
        company_name=draw(_MAYBE if person else _TEXT),
        ssn=identification if person else None,
        organization_number=None if person else identification,
        birth_date=draw(st.none() | st.dates(date(1900, 1, 1), date(2020, 12, 31))),
        tax_identification_number=draw(_MAYBE),
        email=draw(st.none() | st.sampled_from(["ray@gmail.com", "Å.Ø@blåbær.no"])),
        phone_number=draw(st.none() | st.sampled_from(["871.790.7578 x4882", "+4722334455"])),
        mobile_phone=draw(st.none() | st.sampled_from(["+37258774XXX", "91 23 45 67"])),
        language=draw(st.none() | st.sampled_from(["DE", "NB", "EN"])),
        street=draw(_TEXT),
        street_number=draw(_MAYBE),
        street_number_additional=draw(_MAYBE),
        care_of=draw(_MAYBE),
        postal_code=draw(_TEXT),
        postal_place=draw(_TEXT),
        country_code=draw(st.sampled_from(["NO", "SE", "DE"])),
        payment_registration_id=draw(_TEXT),
        psp_customer_id=draw(_MAYBE),
        psp_payment_method_id=draw(_MAYBE),
    )


def _written(body: dict[str, Any], client_id: int) -> Customer:
    return schemas.to_customer(schemas.CustomerRequest.model_validate(body), client_id).customer


@given(_customers())
def test_a_customers_request_writes_the_customer_back(customer: Customer) -> None:
    request = schemas.to_request(customer)

    written = schemas.to_customer(schemas.CustomerRequest.model_validate(request), 7)

    assert {name: getattr(written.customer, name) for name in written.owned} == {
        name: getattr(customer, name) for name in written.owned
    }


@given(_customers())
def test_a_get_shows_what_the_post_sent(customer: Customer) -> None:
    sent = schemas.to_request(customer)["customer"]

    shown = schemas.from_customer(
        _written({"customer": sent, "paymentRegistration": {"id": "1"}}, 7)
    )

    assert shown == sent | {"companyName": sent.get("companyName", "")}


def test_a_write_answers_riverty_s_numbers_and_the_merchant_s_as_reference() -> None:
    stored = Customer(client_id=7, customer_number="c1631704458", type="Person",
                      internal_number="700427690", sign_up_id=702091815)  # fmt: skip

    assert schemas.sign_up(stored) == {
        "signUpId": 702091815, "customerNumber": "700427690",
        "externalCustomerReference": "c1631704458", "contracts": [],
    }  # fmt: skip


def test_empty_members_are_absent_values() -> None:
    body = {
        "customer": {
            "customerNumber": "c1", "customerCategory": "person", "firstName": "Ray",
            "lastName": "Ankunding", "companyName": "", "identificationNumber": "", "email": "",
            "language": "", "address": {"street": "Road", "postalCode": "1", "postalPlace": "X",
                                        "countryCode": "de", "careOf": "", "streetNumber": ""},
        },
        "paymentRegistration": {"id": "275122", "pspCustomerId": ""},
    }  # fmt: skip

    written = _written(body, 7)

    assert (written.company_name, written.ssn, written.email, written.language) == (None,) * 4
    assert (written.care_of, written.street_number, written.psp_customer_id) == (None,) * 3
    assert (written.type, written.country_code) == ("Person", "DE")

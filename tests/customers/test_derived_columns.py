"""The search columns stored beside a customer's values: which a write recomputes, and what
they hold."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_registry.customers import rules
from customer_registry.customers.model import CUSTOMER_FIELDS, Customer

_ALL = frozenset(CUSTOMER_FIELDS)
_NAMES = {"first_name_key", "last_name_key", "full_name_key"}
_PHONES = {"phone_e164", "mobile_phone_e164"}


def _customer(**values: Any) -> Customer:
    fields: dict[str, Any] = {
        "first_name": "  Ada ", "last_name": "LOVELACE", "company_name": "Ålesund  Fisk AS",
        "phone_number": "22 33 44 55", "mobile_phone": "+46 70 123 45 67", "country_code": "NO",
    }  # fmt: skip
    return Customer(client_id=1, customer_number="c1", type="Person", **fields | values)


def test_a_customers_search_columns_hold_its_names_folded_and_phones_in_e164() -> None:
    assert rules.derived_columns(_customer(), _ALL) == {
        "phone_e164": "+4722334455",
        "mobile_phone_e164": "+46701234567",
        "first_name_key": "ada",
        "last_name_key": "lovelace",
        "full_name_key": "ada lovelace",
        "company_name_key": "ålesund fisk as",
        "email_key": None,
    }


@pytest.mark.parametrize(
    ("changed", "recomputed"),
    [
        ({"street", "ssn", "version"}, set()),
        ({"email"}, {"email_key"}),  # the console's e-mail search (migration 0008)
        ({"phone_number"}, {"phone_e164"}),
        ({"mobile_phone"}, {"mobile_phone_e164"}),
        ({"country_code"}, _PHONES),  # a national number reads differently in another country
        ({"first_name"}, _NAMES),
        ({"last_name"}, _NAMES),
        ({"company_name"}, {"company_name_key"}),
    ],
)
def test_a_write_recomputes_the_search_columns_of_the_fields_it_changes(
    changed: set[str], recomputed: set[str]
) -> None:
    assert set(rules.derived_columns(_customer(), frozenset(changed))) == recomputed


def test_a_recomputed_column_reads_the_customers_other_stored_fields() -> None:
    derived = rules.derived_columns(_customer(), frozenset({"country_code"}))

    assert derived["phone_e164"] == "+4722334455"
    assert rules.derived_columns(_customer(country_code="DK"), frozenset({"country_code"})) == {
        "phone_e164": "+4522334455", "mobile_phone_e164": "+46701234567",
    }  # fmt: skip
    assert rules.derived_columns(_customer(first_name=None), frozenset({"last_name"})) == {
        "first_name_key": None, "last_name_key": "lovelace", "full_name_key": "lovelace",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Ørsted", "ørsted"),  # accents are kept
        ("\uff21\uff24\uff21", "ada"),  # full-width letters are letters
        ("Ma\ufb01a", "mafia"),  # a ligature is its letters
        ("Anne\u00a0 Marie", "anne marie"),
        (" \t", None),
        ("", None),
    ],
)
def test_a_name_is_searched_for_in_one_spelling(name: str, key: str | None) -> None:
    derived = rules.derived_columns(_customer(company_name=name), frozenset({"company_name"}))

    assert derived == {"company_name_key": key}


_FIELDS = st.frozensets(st.sampled_from(sorted(_ALL)))
_TEXT = st.none() | st.text(max_size=12)


@given(
    changed=_FIELDS,
    first=_TEXT,
    last=_TEXT,
    phone=_TEXT,
    country=st.sampled_from([None, "NO", "SE", "DE"]),
)
def test_the_columns_of_a_write_are_those_of_the_whole_customer(
    changed: frozenset[str], first: str | None, last: str | None, phone: str | None,
    country: str | None,
) -> None:  # fmt: skip
    customer = _customer(first_name=first, last_name=last, phone_number=phone, country_code=country)
    whole = rules.derived_columns(customer, _ALL)

    derived = rules.derived_columns(customer, changed)

    assert derived == {name: whole[name] for name in derived}

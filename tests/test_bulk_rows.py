"""A row validated in one pass from its JSON text is the row the API's two passes give."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_registry.bulk import Dialect
from customer_registry.bulk.formats import Record
from customer_registry.bulk.records import Row, from_record, parse_json, validate

_HORIZON = {
    "customerNumber": "c1",
    "type": "Person",
    "person": {"ssn": "02016126007", "firstName": "Tom", "lastName": "Customer"},
    "phoneNumber": "+4712345678",
    "email": "tom.customer@mail.com",
    "address": {
        "addressLine": "Customer Street 1",
        "postalCode": "0002",
        "postalPlace": "CSTM",
        "countryCode": "NO",
    },
}
_REGISTRY = {
    "customerNumber": "c2",
    "type": "Company",
    "companyName": "Acme",
    "street": "Main Street",
    "postalCode": "1",
    "postalPlace": "Oslo",
    "countryCode": "no",
    "signUpId": 123456789,
}


def _two_passes(dialect: Dialect, text: str) -> Row:
    data = parse_json(text)
    if isinstance(data, tuple):
        return Row(1, None, None, data)
    return validate(dialect, 7, 1, data)


def _same_row(dialect: Dialect, text: str) -> None:
    assert from_record(Record(1, len(text), text=text), dialect, 7) == _two_passes(dialect, text)


_ODD_TEXTS = [
    "",
    "[1]",
    '"x"',
    "{} {}",
    '{"customerNumber": "c1"',
    '{"customerNumber": "c\\ud800"}',
    '{"customerNumber": "c\t1"}',
    '{"customerNumber": "c1", "customerNumber": "c2"}',
    "NaN",
]


@pytest.mark.parametrize("text", _ODD_TEXTS)
@pytest.mark.parametrize("dialect", ["registry", "horizon", "subscriptions"])
def test_unreadable_lines_have_the_apis_reasons(dialect: Dialect, text: str) -> None:
    _same_row(dialect, text)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=300)
@given(
    member=st.sampled_from(sorted({*_REGISTRY, "firstName", "email", "birthDate", "paymentId"})),
    value=_JSON_VALUES,
)
def test_registry_rows_with_any_member_value_match(member: str, value: object) -> None:
    _same_row("registry", json.dumps({**_REGISTRY, member: value}))


@settings(max_examples=300)
@given(
    member=st.sampled_from([*_HORIZON, "existingCustomer", "individualRiskScore"]),
    value=_JSON_VALUES,
)
def test_horizon_rows_with_any_member_value_match(member: str, value: object) -> None:
    _same_row("horizon", json.dumps({**_HORIZON, member: value}))


@given(score=st.floats() | st.integers())
def test_numbers_read_alike(score: float) -> None:
    _same_row("horizon", json.dumps({**_HORIZON, "individualRiskScore": score}))

"""Normalisation and validation rules, on generated inputs."""

import re
import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter
from stdnum import luhn

from customer_registry.customers import fields, identifiers, phones, rules
from customer_registry.customers.model import CustomerType


@given(st.text())
def test_name_key_is_idempotent_and_case_free(name: str) -> None:
    key = rules.name_key(name)

    assert rules.name_key(key) == key
    assert rules.name_key(name.upper()) == rules.name_key(name.upper().lower()) or key is None


@given(st.text(alphabet=string.ascii_letters + " ", min_size=1))
def test_a_prefix_of_a_name_is_a_prefix_of_its_key(name: str) -> None:
    key = rules.name_key(name)
    prefix = rules.name_key(name[: len(name) // 2 + 1])

    assert key is None or prefix is None or key.startswith(prefix)


def test_generated_payment_ids_are_21_digit_luhn_numbers() -> None:
    for _ in range(200):
        payment_id = identifiers.new_payment_id()
        assert len(payment_id) == 21
        assert luhn.is_valid(payment_id)


def test_generated_internal_numbers_have_nine_digits() -> None:
    numbers = {identifiers.new_internal_number() for _ in range(200)}

    assert all(len(n) == 9 and n.isdigit() and n[0] != "0" for n in numbers)


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+4712345678", None, "+4712345678"),
        ("12 34 56 78", "NO", "+4712345678"),
        ("0047 12345678", "NO", "+4712345678"),
        ("871.790.7578 x4882", "DE", "+498717907578"),
        ("+37258774XXX", None, None),
        ("", None, None),
    ],
)
def test_phone_numbers_normalise_to_e164_where_parseable(
    raw: str, country: str | None, e164: str | None
) -> None:
    assert phones.phone_e164(raw, country) == e164


@given(st.text())
def test_clean_text_accepts_exactly_printable_unicode(value: str) -> None:
    has_control = any((ord(c) < 32 and c != "\t") or 127 <= ord(c) < 160 for c in value)
    has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if has_control or has_surrogate:
        with pytest.raises(ValueError, match="must"):
            fields.clean_text(value)
    else:
        assert fields.clean_text(value) == value


@pytest.mark.parametrize("code", ["no", "NO", "De", "se"])
def test_country_codes_are_upper_cased(code: str) -> None:
    assert fields.country_code(code) == code.upper()


@pytest.mark.parametrize("code", ["XX", "NOR", "N", "", "1A"])
def test_unknown_country_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166"):
        fields.country_code(code)


@pytest.mark.parametrize(
    ("value", "kind", "country", "problem"),
    [
        ("02016126007", "Person", "NO", False),
        ("02016126008", "Person", "NO", True),
        ("02016126008", "Person", "DE", False),
        ("123456785", "Company", "NO", False),
        ("123456789", "Company", "NO", True),
    ],
)
def test_national_ids_are_checked_for_norway_only(
    value: str, kind: CustomerType, country: str, problem: bool
) -> None:
    assert bool(rules.national_id_problem(value, customer_type=kind, country=country)) is problem


_BLANKS = st.text(
    st.sampled_from(" \t\u00a0\u1680\u2000\u200b\u200d\u200e\u202e\u2028\u2066\u3000\ufeff")
)
# Letters, digits and punctuation, but the few letters that show nothing (Hangul fillers).
_SHOWN = st.characters(categories=["L", "N", "P"], exclude_characters="\u115f\u1160\u3164\uffa0")


@given(_BLANKS.filter(bool))
def test_text_of_only_spaces_and_invisible_characters_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="blank"):
        fields.visible_text(value)
    with pytest.raises(ValueError, match="blank"):
        fields.customer_number(value)


@given(_BLANKS, st.text(_SHOWN, min_size=1), _BLANKS)
def test_text_that_shows_something_is_kept_as_given(before: str, shown: str, after: str) -> None:
    value = before + shown + after
    assert fields.visible_text(value) == value
    assert fields.customer_number(shown) == shown
    if before or after:
        with pytest.raises(ValueError, match="begin or end"):
            fields.customer_number(value)


def _accepts(check: Callable[[str], str], value: str) -> bool:
    try:
        fields.clean_text(value)
        check(value)
    except ValueError:
        return False
    return True


@given(st.text(max_size=8))
def test_the_documented_customer_number_pattern_says_what_the_validator_does(value: str) -> None:
    documented = TypeAdapter(fields.CustomerNumberText).json_schema()["pattern"]
    # JSON Schema's `$` is the end of the text; Python's also matches before a final newline.
    pattern = re.compile(documented.removesuffix("$") + r"\Z")
    # An empty customer number is refused by its minimum length.
    accepted = value != "" and _accepts(fields.customer_number, value)
    assert bool(pattern.search(value)) == accepted

"""The shared field types as the dialects' models apply them: what each accepts, what it makes
of a value, and that the documented schema says what the validator does."""

import re
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from customer_registry.customers import fields

CLEAN = TypeAdapter(fields.CleanText)
VISIBLE = TypeAdapter(fields.VisibleText)
NUMBER = TypeAdapter(fields.CustomerNumberText)
COUNTRY = TypeAdapter(fields.CountryCode)
EMAIL = TypeAdapter(fields.Email)
LANGUAGE = TypeAdapter(fields.LanguageCode)


def _refusal(adapter: TypeAdapter[str], value: str) -> str | None:
    """Why the type refuses ``value``; None when it accepts it."""
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return None


def _documented(adapter: TypeAdapter[str]) -> re.Pattern[str]:
    """The type's documented pattern, with JSON Schema's "$": the end of the text only."""
    pattern = adapter.json_schema()["pattern"]
    return re.compile(re.sub(r"\$$", r"\\Z", pattern))


@given(st.text())
def test_clean_texts_documented_pattern_says_what_it_accepts(value: str) -> None:
    has_surrogate = any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    accepted = _refusal(CLEAN, value) is None

    assert accepted == (bool(_documented(CLEAN).search(value)) and not has_surrogate)


@pytest.mark.parametrize("value", ["a\n", "\na", "x\r\ny", "\x7f", "\x85", "a\x00"])
def test_line_breaks_and_control_characters_are_refused_as_such(value: str) -> None:
    for adapter in (CLEAN, VISIBLE, NUMBER, EMAIL, LANGUAGE, COUNTRY):
        assert _refusal(adapter, value) == "Value error, must not contain control characters"


def test_a_tab_is_clean_text_but_not_visible_text() -> None:
    assert CLEAN.validate_python("\t") == "\t"
    assert _refusal(VISIBLE, "\t") == (
        "Value error, must not be blank (only spaces or invisible characters)"
    )


@pytest.mark.parametrize("adapter", [VISIBLE, EMAIL, LANGUAGE])
def test_an_empty_optional_member_stays_empty(adapter: TypeAdapter[str]) -> None:
    assert adapter.validate_python("") == ""


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("c-1", True), ("LU 00 12", True), ("\u00a0c1", False), ("c1\u200b", False), ("", True)],
)
def test_customer_numbers_show_something_at_both_ends(value: str, accepted: bool) -> None:
    assert (_refusal(NUMBER, value) is None) is accepted


def _enum(adapter: TypeAdapter[str]) -> list[str]:
    documented: list[str] = adapter.json_schema()["enum"]
    return documented


@pytest.mark.parametrize("adapter", [COUNTRY, LANGUAGE], ids=["country", "language"])
def test_every_documented_code_is_accepted_and_stored_in_upper_case(
    adapter: TypeAdapter[str],
) -> None:
    for code in _enum(adapter):
        assert adapter.validate_python(code) == code.upper()


# The documented enums list each code in upper and lower case; any case is accepted.
@given(st.text(string.ascii_letters + "-1 ", max_size=3))
def test_a_country_code_is_accepted_exactly_when_it_is_documented(value: str) -> None:
    assert (_refusal(COUNTRY, value) is None) == (value.upper() in _enum(COUNTRY))


@given(st.text(string.ascii_letters + "-1 ", max_size=3))
def test_a_language_code_is_accepted_exactly_when_it_is_documented(value: str) -> None:
    assert (_refusal(LANGUAGE, value) is None) == (value.upper() in _enum(LANGUAGE))


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("UK", "'UK' is not an ISO 3166-1 alpha-2 country code"),  # GB is
        ("nor", "'nor' is not an ISO 3166-1 alpha-2 country code"),
        ("", "'' is not an ISO 3166-1 alpha-2 country code"),
    ],
)
def test_a_refused_country_code_is_named_in_the_reason(code: str, reason: str) -> None:
    assert _refusal(COUNTRY, code) == f"Value error, {reason}"


@pytest.mark.parametrize(("code", "stored"), [("nb", "NB"), ("En", "EN"), ("NO", "NO")])
def test_language_codes_are_stored_in_upper_case(code: str, stored: str) -> None:
    assert LANGUAGE.validate_python(code) == stored


@pytest.mark.parametrize("code", ["nob", "xx", "n", "e1"])
def test_a_refused_language_code_is_named_in_the_reason(code: str) -> None:
    assert _refusal(LANGUAGE, code) == f"Value error, {code!r} is not an ISO 639-1 language code"


@pytest.mark.parametrize(
    "address", ["Tom.Customer@Mail.COM", "ø@blåbær.no", "a+tag@sub.example.no", "x@y.no"]
)
def test_an_email_address_is_kept_exactly_as_given(address: str) -> None:
    assert EMAIL.validate_python(address) == address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("tom.customer", "must have an @-sign"),
        ("tom@mail", "It should have a period"),
        (" tom@mail.no", "invalid characters before the @-sign: SPACE"),
        ("tom@@mail.no", "after the @-sign contains invalid characters: '@'"),
        ("x@y.test", "special-use or reserved name"),
    ],
)
def test_a_refused_email_address_says_what_is_wrong(address: str, reason: str) -> None:
    refusal = _refusal(EMAIL, address)
    assert refusal is not None
    assert reason in refusal


def _any(adapter: TypeAdapter[Any], value: object) -> str | None:
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["type"])
    return None


@pytest.mark.parametrize("adapter", [CLEAN, COUNTRY, EMAIL, LANGUAGE])
@pytest.mark.parametrize("value", [47, None, ["NO"], {"code": "NO"}])
def test_values_that_are_not_text_are_refused_as_not_text(
    adapter: TypeAdapter[str], value: object
) -> None:
    assert _any(adapter, value) == "string_type"

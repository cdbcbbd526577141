"""Phone numbers in E.164 for search: what a merchant writes, and what is found by it."""

import re
from collections.abc import Iterator
from typing import cast

import phonenumbers
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_registry.customers import phones
from customer_registry.db import customers

_WRITTEN = st.text("+0123456789 -().x", max_size=24) | st.from_regex(
    r"\+?(00)?[1-9][0-9]{0,2}( ?[0-9]{2,4}){1,4}", fullmatch=True
)
_COUNTRIES = st.sampled_from([None, "NO", "SE", "DE", "US", "GB", "EE", "JP", "ID"])


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+47 22 33 44 55", "SE", "+4722334455"),  # an international number keeps its country
        ("+47 22 33 44 55 ext 12", None, "+4722334455"),
        ("22 33 44 55 x12", "NO", "+4722334455"),
        ("(+47) 22-33-44-55", None, "+4722334455"),
        ("+47 22.33.44.55", None, "+4722334455"),
        ("22334455", None, None),  # national, and no country to read it by
        ("+47 223", None, None),  # too short to be a number
        ("0800 FLOWERS", "US", None),  # letters are masks, not keypad digits
        ("tel:+4722334455", None, None),
        (None, "NO", None),
    ],
)
def test_a_written_number_is_read_to_its_e164_form_or_none(
    raw: str | None, country: str | None, e164: str | None
) -> None:
    assert phones.phone_e164(raw, country) == e164


# Digits after a "+", as long as the search columns hold: phonenumbers allows 17-digit
# national numbers (Japan, Indonesia), beyond E.164's 15 digits.
_E164 = re.compile(r"\+[1-9][0-9]+")
_COLUMN = min(
    cast(sa.String, column.type).length or 0
    for column in (customers.c.phone_e164, customers.c.mobile_phone_e164)
)


@settings(deadline=None)  # the first numbers load phonenumbers' metadata
@given(raw=_WRITTEN, country=_COUNTRIES)
def test_a_number_is_read_to_e164_that_fits_the_search_columns_or_not_at_all(
    raw: str, country: str | None
) -> None:
    e164 = phones.phone_e164(raw, country)
    assert e164 is None or (_E164.fullmatch(e164) and len(e164) <= _COLUMN)


@pytest.mark.parametrize("raw", ["+81" + "1" * 17, "+62" + "8" * 17])
def test_the_longest_possible_numbers_fit_the_search_columns(raw: str) -> None:
    assert phones.phone_e164(raw) == raw
    assert len(raw) == _COLUMN


def _examples() -> Iterator[tuple[str, phonenumbers.PhoneNumber]]:
    kinds = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            if (number := phonenumbers.example_number_for_type(region, kind)) is not None:
                yield region, number


_FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)


def test_every_regions_numbers_read_as_their_e164_form_however_written() -> None:
    for region, number in _examples():
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for form in _FORMATS:
            written = phonenumbers.format_number(number, form)
            assert phones.phone_e164(written, region) == e164, (region, written)
        assert phones.phone_e164(e164) == e164

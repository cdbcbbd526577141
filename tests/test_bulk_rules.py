"""The bulk import's shortcuts in ``rules`` decide exactly as the slow paths they avoid."""

import random
from collections.abc import Iterator

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, phonenumberutil
from stdnum import luhn

from customer_registry.customers import fields, identifiers, phones

_LOCAL = st.text(st.sampled_from("ab.Z09-_+!\"'(@ é"), min_size=0, max_size=70)
_DOMAIN = st.text(st.sampled_from("abz09.-_xn@ éA"), min_size=0, max_size=30).map(
    lambda text: text.replace("x", "xn--")
)
_TLDS = st.sampled_from(["", ".no", ".com", ".test", ".local", ".123", ".de."])


def _accepted(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@settings(max_examples=3000)
@given(local=_LOCAL, domain=_DOMAIN, tld=_TLDS)
@example(local="a" * 64, domain="b" * 60 + "." + "c" * 60 + "." + "d" * 60, tld=".no")
@example(local="a" * 70, domain="mail", tld=".no")
@example(local="postmaster", domain="ab--cd", tld=".no")
def test_plainly_valid_addresses_are_those_email_validator_accepts(
    local: str, domain: str, tld: str
) -> None:
    address = f"{local}@{domain}{tld}"
    if fields._plainly_valid(address):
        assert _accepted(address)


@pytest.mark.parametrize(
    "address", ["tom.customer@mail.com", "a+b@x.no", "x@y.test", "a..b@c.no", "a@-b.no"]
)
def test_email_address_accepts_or_refuses_as_email_validator(address: str) -> None:
    if _accepted(address):
        assert fields.email_address(address) == address
    else:
        with pytest.raises(ValueError, match=r"."):
            fields.email_address(address)


@given(st.text(st.sampled_from("0123456789"), min_size=1, max_size=30))
def test_luhn_check_digit_is_stdnums(digits: str) -> None:
    assert identifiers.luhn_check_digit(digits) == luhn.calc_check_digit(digits)


def test_new_payment_id_has_21_digits_and_a_valid_check_digit() -> None:
    payment_id = identifiers.new_payment_id()
    assert len(payment_id) == 21
    assert luhn.is_valid(payment_id)


def test_new_identifiers_are_shaped_as_those_drawn_one_by_one() -> None:
    drawn = identifiers.new_identifiers(500)

    assert len(drawn) == 500
    for payment_id, internal_number, sign_up_id in drawn:
        assert len(payment_id) == 21
        assert luhn.is_valid(payment_id)
        assert len(internal_number) == 9
        assert internal_number[0] != "0"
        assert 100_000_000 <= sign_up_id <= 999_999_999
    assert len({ids[0] for ids in drawn}) == 500


@pytest.mark.parametrize("limit", [1, 2, 3, 255, 256, 257, 10**20])
def test_draws_below_a_limit_stay_below_it_and_reach_its_ends(limit: int) -> None:
    drawn = identifiers._below(limit, 2000)

    assert len(drawn) == 2000
    assert all(0 <= value < limit for value in drawn)
    if limit <= 3:
        assert set(drawn) == set(range(limit))


_REGIONS = [*sorted(phonenumberutil.SUPPORTED_REGIONS), None, "no", "XX", "001"]
_PLAIN = st.from_regex(r"\+?[0-9]{1,5}( [0-9]{1,5}){0,4}", fullmatch=True)


@settings(max_examples=2000)
@given(raw=_PLAIN | st.text("+0123456789 -()x", max_size=20), country=st.sampled_from(_REGIONS))
@example(raw="496 82 180", country="NO")
@example(raw="030 1234567", country="DE")
@example(raw="0044 20 7946 0958", country="DE")
@example(raw="+999 123 456", country="NO")
def test_quick_phone_e164_reads_numbers_as_phonenumbers_does(raw: str, country: str | None) -> None:
    assert phones.quick_phone_e164(raw, country) == phones.phone_e164(raw, country)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _numbers_of(region: str, rng: random.Random) -> Iterator[str]:
    """Numbers written as that region's people write them: international with its code or
    another, national with its prefix, after an international dialling prefix."""
    metadata = PhoneMetadata.metadata_for_region(region)
    assert metadata is not None
    codes = sorted(phonenumberutil.COUNTRY_CODE_TO_REGION_CODE)
    own = str(metadata.country_code)
    for length in range(1, 14):
        yield f"+{own}{_digits(rng, length)}"
        yield f"+{rng.choice(codes)} {_digits(rng, length)}"
        yield f"{metadata.national_prefix or ''}{_digits(rng, length)}"
        yield f"{own}{_digits(rng, length)}"
        yield f"{rng.choice(['00', '011', '810', '0011'])}{rng.choice(codes)}{_digits(rng, length)}"


def test_quick_phone_e164_reads_every_regions_numbers_as_phonenumbers_does() -> None:
    rng = random.Random(7)
    for region in sorted(phonenumberutil.SUPPORTED_REGIONS):
        for raw in _numbers_of(region, rng):
            assert phones.quick_phone_e164(raw, region) == phones.phone_e164(raw, region), raw


@given(st.text(st.sampled_from("0123456789"), min_size=1, max_size=30))
def test_a_batchs_payment_ids_end_in_stdnums_check_digit(digits: str) -> None:
    assert identifiers._payment_id(digits) == digits + luhn.calc_check_digit(digits)

"""The bulk import's shortcuts in ``rules`` decide exactly as the slow paths they avoid."""

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from customer_registry.customers import rules

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
    if rules._plainly_valid(address):
        assert _accepted(address)


@pytest.mark.parametrize(
    "address", ["tom.customer@mail.com", "a+b@x.no", "x@y.test", "a..b@c.no", "a@-b.no"]
)
def test_email_address_accepts_or_refuses_as_email_validator(address: str) -> None:
    if _accepted(address):
        assert rules.email_address(address) == address
    else:
        with pytest.raises(ValueError, match=r"."):
            rules.email_address(address)


@given(st.text(st.sampled_from("0123456789"), min_size=1, max_size=30))
def test_luhn_check_digit_is_stdnums(digits: str) -> None:
    assert rules.luhn_check_digit(digits) == luhn.calc_check_digit(digits)


def test_new_payment_id_has_21_digits_and_a_valid_check_digit() -> None:
    payment_id = rules.new_payment_id()
    assert len(payment_id) == 21
    assert luhn.is_valid(payment_id)


def test_new_identifiers_are_shaped_as_those_drawn_one_by_one() -> None:
    drawn = rules.new_identifiers(500)

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
    drawn = rules._below(limit, 2000)

    assert len(drawn) == 2000
    assert all(0 <= value < limit for value in drawn)
    if limit <= 3:
        assert set(drawn) == set(range(limit))

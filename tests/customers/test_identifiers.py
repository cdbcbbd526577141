"""Generated identifiers: their formats at the ends of the random range, and the payment id's
check digit (spec A.7)."""

import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_registry.customers import identifiers


def test_the_check_digit_of_the_standard_luhn_example() -> None:
    assert identifiers.luhn_check_digit("7992739871") == "3"


@given(
    body=st.text("0123456789", min_size=20, max_size=20),
    at=st.integers(0, 19),
    digit=st.sampled_from("0123456789"),
)
def test_a_payment_id_with_one_digit_mistyped_fails_its_check(
    body: str, at: int, digit: str
) -> None:
    mistyped = body[:at] + digit + body[at + 1 :]

    same = identifiers.luhn_check_digit(mistyped) == identifiers.luhn_check_digit(body)

    assert same == (mistyped == body)


@given(body=st.text("0123456789", min_size=20, max_size=20), at=st.integers(0, 18))
def test_a_payment_id_with_two_digits_swapped_fails_its_check_but_for_09_and_90(
    body: str, at: int
) -> None:
    swapped = body[:at] + body[at + 1] + body[at] + body[at + 2 :]

    same = identifiers.luhn_check_digit(swapped) == identifiers.luhn_check_digit(body)

    assert same == (swapped == body or body[at : at + 2] in {"09", "90"})


class _Drawing:
    """``secrets`` whose ``randbelow`` draws the lowest or the highest value."""

    def __init__(self, lowest: bool) -> None:
        self.lowest = lowest
        self.token_hex = secrets.token_hex

    def randbelow(self, limit: int) -> int:
        return 0 if self.lowest else limit - 1


@pytest.mark.parametrize(
    ("lowest", "payment_id", "internal_number", "sign_up_id"),
    [
        (True, "0" * 21, "100000000", 100_000_000),
        (False, "9" * 20 + "0", "999999999", 999_999_999),
    ],
    ids=["lowest", "highest"],
)
def test_identifiers_keep_their_length_at_the_ends_of_the_random_range(
    monkeypatch: pytest.MonkeyPatch,
    lowest: bool,
    payment_id: str,
    internal_number: str,
    sign_up_id: int,
) -> None:
    monkeypatch.setattr(identifiers, "secrets", _Drawing(lowest))

    assert identifiers.new_payment_id() == payment_id
    assert identifiers.new_internal_number() == internal_number
    assert identifiers.new_sign_up_id() == sign_up_id


def test_generated_sign_up_ids_have_nine_digits() -> None:
    drawn = {identifiers.new_sign_up_id() for _ in range(200)}

    assert all(100_000_000 <= sign_up_id <= 999_999_999 for sign_up_id in drawn)
    assert len(drawn) == 200


def test_generated_customer_numbers_are_lu_and_16_upper_case_hex_digits() -> None:
    drawn = {identifiers.new_customer_number() for _ in range(200)}

    assert all(re.fullmatch("LU[0-9A-F]{16}", number) for number in drawn)
    assert len(drawn) == 200

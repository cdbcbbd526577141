"""Phone numbers in E.164 for search, read as leniently as merchants write them."""

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, phonenumberutil
from phonenumbers.re_util import re_compile

_EXTENSION = re.compile(r"\s*(?:x|ext\.?)\s*\d+\s*$", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=4096)
def phone_e164(raw: str | None, country: str | None = None) -> str | None:
    """E.164 form of a phone number where it can be parsed, else None (remembered: parsing
    one costs 45 µs, and an update sends the stored number again)."""
    if not raw or _LETTERS.search(_EXTENSION.sub("", raw)):
        # phonenumbers reads letters as keypad digits; here they are masks ("+37258774XXX").
        return None
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# phonenumbers.parse reads any text a person may type; most stored numbers are written as
# digits in groups split by single spaces, after an optional "+". On such text its text
# handling (finding the number, an extension, normalising each character) changes nothing,
# and what it does with the digits is done below by its own functions, as it calls them.
_PLAIN_NUMBER = re.compile(r"(\+?)([0-9]+(?: [0-9]+)*)")
_LENGTH = phonenumberutil.ValidationResult
_MAX_NATIONAL = phonenumberutil._MAX_LENGTH_FOR_NSN
_NOT_STRIPPED = (_LENGTH.TOO_SHORT, _LENGTH.IS_POSSIBLE_LOCAL_ONLY, _LENGTH.INVALID_LENGTH)


class _NoNumber(Exception):
    """Where phonenumbers.parse raises NumberParseException: no E.164 form."""


def quick_phone_e164(raw: str | None, country: str | None = None) -> str | None:
    """``phone_e164(raw, country)``, at half the cost for a plainly written number (above);
    tests compare the two."""
    plain = _PLAIN_NUMBER.fullmatch(raw) if raw and len(raw) <= 100 else None
    digits = plain[2].replace(" ", "") if plain else ""
    if plain is None or len(digits) < 3:
        return phone_e164(raw, country)
    try:
        parsed = _parsed(digits, plus=bool(plain[1]), country=country)
    except _NoNumber:
        return None
    if parsed is None:
        return phone_e164(raw, country)
    number = phonenumbers.PhoneNumber(country_code=parsed[0])
    phonenumberutil._set_italian_leading_zeros_for_phone_number(parsed[1], number)
    number.national_number = int(parsed[1])
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parsed(digits: str, *, plus: bool, country: str | None) -> tuple[int, str] | None:
    """``parse``'s country code and national significant number; None where it would read
    the number again without its "+" (an unknown country code)."""
    if not plus and not phonenumberutil._is_valid_region_code(country):
        raise _NoNumber  # a national number, and no country to read it by
    metadata = None if country is None else PhoneMetadata.metadata_for_region(country.upper())
    found = _country_code(digits, plus=plus, metadata=metadata)
    if found is None:
        return None
    code, national = found
    if code != 0:
        region = phonenumberutil.region_code_for_country_code(code)
        if region != country:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    elif metadata is None:
        raise _NoNumber  # parse's country code 0, which no number is possible with
    elif metadata.country_code is None:
        return None  # no metadata has none; parse knows what to make of it
    else:
        code, national = metadata.country_code, digits
    if len(national) < phonenumberutil._MIN_LENGTH_FOR_NSN:
        raise _NoNumber
    if metadata is not None:
        stripped = phonenumberutil._maybe_strip_national_prefix_carrier_code(national, metadata)
        if phonenumberutil._test_number_length(stripped[1], metadata) not in _NOT_STRIPPED:
            national = stripped[1]
    if not phonenumberutil._MIN_LENGTH_FOR_NSN <= len(national) <= _MAX_NATIONAL:
        raise _NoNumber
    return code, national


def _country_code(
    digits: str, *, plus: bool, metadata: PhoneMetadata | None
) -> tuple[int, str] | None:
    """``_maybe_extract_country_code``: the country code and the rest, (0, "") for none."""
    if plus:
        international, full = True, digits
    else:
        prefix = metadata.international_prefix if metadata is not None else None
        pattern = re_compile(prefix if prefix is not None else "NonMatch")
        international, full = phonenumberutil._parse_prefix_as_idd(pattern, digits)
    if international:
        if len(full) <= phonenumberutil._MIN_LENGTH_FOR_NSN:
            raise _NoNumber
        code, rest = phonenumberutil._extract_country_code(full)
        if code != 0:
            return code, rest
        if plus:
            return None
        raise _NoNumber
    own = metadata.country_code if metadata is not None else None
    if metadata is None or own is None or not full.startswith(str(own)):
        return 0, ""
    general = metadata.general_desc
    rest = full[len(str(own)) :]
    rest = phonenumberutil._maybe_strip_national_prefix_carrier_code(rest, metadata)[1]
    shorter_fits = not phonenumberutil._match_national_number(
        full, general, False
    ) and phonenumberutil._match_national_number(rest, general, False)
    if shorter_fits or phonenumberutil._test_number_length(full, metadata) == _LENGTH.TOO_LONG:
        return own, rest
    return 0, ""

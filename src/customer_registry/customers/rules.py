"""Normalisation and validation of customer data: pure functions, no I/O.

Validators raise ``ValueError`` with a message meant for the client; the dialects' pydantic
models attach them to fields, so each problem is reported under the field's JSON path.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneMetadata, phonenumberutil
from phonenumbers.re_util import re_compile
from pydantic import AfterValidator, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer, orgnr

from customer_registry.customers.model import Customer, CustomerType

_CONTROL = re.compile("[\u0000-\u0008\u000a-\u001f\u007f-\u009f]")  # Cc but tab


# eq=False: hashed by identity, as typing hashes Annotated metadata and a dict cannot be.
@dataclass(frozen=True, slots=True, eq=False)
class Documented:
    """Adds JSON Schema keywords to a type's OpenAPI schema; validation stays the validators'."""

    keywords: dict[str, Any]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(core_schema), **self.keywords}


def clean_text(value: str) -> str:
    """Refuse text that no database column should hold: control characters, lone surrogates."""
    # Category Cc is exactly C0, DEL and C1; one regex search is far cheaper than a
    # category lookup per character, which bulk imports pay for every member of every row.
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


# The Cc characters clean_text refuses: C0 but tab, DEL, C1.
_NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f]*$"
CleanText = Annotated[
    str, AfterValidator(clean_text), Documented({"pattern": _NO_CONTROL_CHARACTERS})
]


# Whitespace (\s: spaces, line and paragraph separators) and the default-ignorable characters
# that render as nothing: zero-width spaces and joiners, bidi marks and overrides, word
# joiners, variation selectors, Hangul fillers, tags; plus the braille blank.
_INVISIBLE = (
    "\\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_VISIBLE_CHARACTER = re.compile(f"[^{_INVISIBLE}]")
_SHOWN_AT_BOTH_ENDS = re.compile(f"[^{_INVISIBLE}](?:.*[^{_INVISIBLE}])?", re.DOTALL)


def visible_text(value: str) -> str:
    """Refuse a value that shows nothing; "" stays allowed (optional members' "absent")."""
    # A search that stops at the first visible character: the first, for nearly every value.
    if value and _VISIBLE_CHARACTER.search(value) is None:
        raise ValueError("must not be blank (only spaces or invisible characters)")
    return value


def customer_number(value: str) -> str:
    """One spelling per customer: a number that looks the same must be the same number."""
    # One match in C for the usual number, instead of two searches and a call.
    if value and _SHOWN_AT_BOTH_ENDS.fullmatch(value) is None:
        visible_text(value)
        raise ValueError("must not begin or end with spaces or invisible characters")
    return value


# The customer number's rules as a JSON Schema pattern, for the OpenAPI document: no control
# character, and one that shows at either end. (Blank text has no pattern: a test generator
# filters too many of the values such a pattern would describe.)
_ANY = "[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f]"
_SHOWN = f"[^\\u0000-\\u001f\\u007f-\\u009f{_INVISIBLE}]"
VisibleText = Annotated[CleanText, AfterValidator(visible_text)]
CustomerNumberText = Annotated[
    CleanText,
    AfterValidator(customer_number),
    Documented({"pattern": f"^{_SHOWN}({_ANY}*{_SHOWN})?$"}),
]


def length(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length)


def country_code(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _both_cases(codes: list[str]) -> list[str]:
    return sorted({spelling for code in codes for spelling in (code.upper(), code.lower())})


_COUNTRY_CODES = _both_cases([country.alpha_2 for country in pycountry.countries])
CountryCode = Annotated[
    CleanText,
    AfterValidator(country_code),
    Documented({"enum": _COUNTRY_CODES, "description": "ISO 3166-1 alpha-2 in any case"}),
]


def language_code(value: str) -> str:
    if not value:
        return value
    code = value.lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 639-1 language code")
    return code.upper()


def email_address(value: str) -> str:
    """Check e-mail syntax only (no DNS); the address is kept exactly as given."""
    if not value or _plainly_valid(value):
        return value
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return value


# email-validator's dot-atom of RFC 5322 3.2.3 (rfc_constants.DOT_ATOM_TEXT) and plain
# ASCII host names: the addresses its split_email takes apart without any special case.
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+"
_PLAIN_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@([a-zA-Z0-9.-]+)")
_MAX_ADDRESS = 254  # email-validator's EMAIL_MAX_LENGTH, in UTF-8 bytes


@lru_cache(maxsize=4096)
def _domain_length(domain: str) -> int | None:
    """The longest UTF-8 form email-validator checks of a valid domain; None if invalid."""
    try:
        checked = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    forms = (domain, checked.domain, checked.ascii_domain or "")
    return max(len(form.encode()) for form in forms)


def _plainly_valid(value: str) -> bool:
    """Whether email-validator would accept the address, decided without running it.

    Checking the domain costs most of its time and depends on the domain alone, and a
    client's customers share few domains: for a dot-atom local part, validity is the
    domain's and the length limit (the local part's own limit applies only in strict mode).
    """
    match = _PLAIN_ADDRESS.fullmatch(value)
    if match is None:
        return False
    domain_length = _domain_length(match[2])
    return domain_length is not None and len(match[1]) + 1 + domain_length <= _MAX_ADDRESS


Email = Annotated[CleanText, AfterValidator(email_address)]
_LANGUAGE_CODES = _both_cases(
    [language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")]
)
LanguageCode = Annotated[
    CleanText,
    AfterValidator(language_code),
    Documented({"enum": ["", *_LANGUAGE_CODES], "description": "ISO 639-1 in any case"}),
]


def upper_case(value: object) -> object:
    """Case-insensitive enumerations: compare in upper case, keep non-strings for the error."""
    return value.upper() if isinstance(value, str) else value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def birth_date(value: object) -> object:
    """A date; a date-time (as the sibling accounting API sends) is truncated to its date."""
    # pydantic would also take a number, or a string of digits, as a Unix time.
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    if len(value) > 10 and value[10] in "Tt ":
        try:
            return datetime.fromisoformat(value).date()
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    return value


def past_date(value: date) -> date:
    if value > date.today():
        raise ValueError("must not be in the future")
    return value


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


def national_id_problem(
    value: str, *, customer_type: CustomerType, country: str | None
) -> str | None:
    """Why ``value`` cannot be the customer's national ID, where the rule is certain.

    Only Norway is checked: Horizon is a Norwegian product, and both the fødselsnummer (which
    covers D-numbers) and the organisation number carry check digits.
    """
    if country != "NO":
        return None
    module, name = (
        (fodselsnummer, "national identity number")
        if customer_type == "Person"
        else (orgnr, "organisation number")
    )
    try:
        module.validate(value)
    except StdnumError as exc:
        return f"not a valid Norwegian {name}: {exc}"
    return None


def risk_score(value: object) -> object:
    """Merchants send the score as a string or, in the lookup example, as a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a string or a number")
    return str(value)


def name_key(value: str | None) -> str | None:
    """Search form of a name: case-folded, accents kept, whitespace collapsed."""
    if not value:
        return None
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split()) or None


def email_key(value: str | None) -> str | None:
    """Search form of an e-mail address: case-folded (mail systems treat local parts so)."""
    return value.strip().casefold() or None if value else None


def full_name(first: str | None, last: str | None) -> str | None:
    return " ".join(part for part in (first, last) if part) or None


def derived_columns(customer: Customer, fields: frozenset[str]) -> dict[str, str | None]:
    """Search columns that depend on ``fields``, computed from the customer's full state."""
    derived: dict[str, str | None] = {}
    country = customer.country_code
    if {"phone_number", "country_code"} & fields:
        derived["phone_e164"] = phone_e164(customer.phone_number, country)
    if {"mobile_phone", "country_code"} & fields:
        derived["mobile_phone_e164"] = phone_e164(customer.mobile_phone, country)
    if {"first_name", "last_name"} & fields:
        derived["first_name_key"] = name_key(customer.first_name)
        derived["last_name_key"] = name_key(customer.last_name)
        derived["full_name_key"] = name_key(full_name(customer.first_name, customer.last_name))
    if "company_name" in fields:
        derived["company_name_key"] = name_key(customer.company_name)
    if "email" in fields:
        derived["email_key"] = email_key(customer.email)
    return derived


def all_derived_columns(customer: Customer) -> dict[str, str | None]:
    """``derived_columns`` of every field, for a batch of new rows: the same columns, with
    phone numbers read by ``quick_phone_e164``."""
    country, first, last = customer.country_code, customer.first_name, customer.last_name
    return {
        "phone_e164": quick_phone_e164(customer.phone_number, country),
        "mobile_phone_e164": quick_phone_e164(customer.mobile_phone, country),
        "first_name_key": name_key(first),
        "last_name_key": name_key(last),
        "full_name_key": name_key(full_name(first, last)),
        "company_name_key": name_key(customer.company_name),
        "email_key": email_key(customer.email),
    }


# Digit sums of doubled digits (Luhn): 5 -> 10 -> 1, 9 -> 18 -> 9.
_DOUBLED = str.maketrans("0123456789", "0246813579")


def new_payment_id() -> str:
    """A 21-digit numeric payment reference with a Luhn check digit (spec A.7)."""
    body = f"{secrets.randbelow(10**20):020d}"  # one draw: 20 uniform digits
    return body + luhn_check_digit(body)


def luhn_check_digit(digits: str) -> str:
    """``stdnum.luhn.calc_check_digit`` for decimal digits, at a tenth of its cost."""
    # With the check digit appended, the last digit of ``digits`` is the first doubled one.
    doubled = digits[::-1][::2].translate(_DOUBLED)
    total = sum(map(int, doubled)) + sum(map(int, digits[::-1][1::2]))
    return str(-total % 10)


def new_internal_number() -> str:
    return str(secrets.randbelow(900_000_000) + 100_000_000)


def new_sign_up_id() -> int:
    return secrets.randbelow(900_000_000) + 100_000_000


Identifiers = tuple[str, str, int]  # payment id, internal number, sign-up id


def new_identifiers(count: int) -> list[Identifiers]:
    """``count`` sets of new identifiers, each distributed as ``new_payment_id()``,
    ``new_internal_number()`` and ``new_sign_up_id()`` draw them, from a few reads of the
    system's random source instead of three per customer (5 µs of an import's row)."""
    bodies, internal_numbers, sign_up_ids = (
        _below(limit, count) for limit in (10**20, 900_000_000, 900_000_000)
    )
    draws = zip(bodies, internal_numbers, sign_up_ids, strict=True)
    return [
        (_payment_id(f"{body:020d}"), str(internal + 100_000_000), sign_up + 100_000_000)
        for body, internal, sign_up in draws
    ]


def _payment_id(body: str) -> str:
    """``body + luhn_check_digit(body)``, its digits summed as bytes (a fifth of the cost)."""
    reverse = body[::-1].encode()
    total = sum(reverse[::2].translate(_DOUBLED_BYTES)) + sum(reverse[1::2]) - 48 * len(body)
    return body + str(-total % 10)


_DOUBLED_BYTES = bytes.maketrans(b"0123456789", b"0246813579")


def _below(limit: int, count: int) -> list[int]:
    """``count`` draws of ``secrets.randbelow(limit)``: as it does, the top bits of as many
    random bytes as ``limit`` needs, drawn again when not below ``limit``."""
    bits = limit.bit_length()
    size, drop = (bits + 7) // 8, -bits % 8
    found: list[int] = []
    while len(found) < count:
        raw = secrets.token_bytes(size * 2 * (count - len(found)))  # enough, nearly always
        drawn = (int.from_bytes(raw[at : at + size]) >> drop for at in range(0, len(raw), size))
        found += [value for value in drawn if value < limit]
    return found[:count]


def new_customer_number() -> str:
    return "LU" + secrets.token_hex(8).upper()

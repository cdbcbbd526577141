"""The field types both dialects and the import share: text without control characters,
visible text, customer numbers, lengths, country and language codes, e-mail addresses, dates.

Validators raise ``ValueError`` with a message meant for the client; the dialects' pydantic
models attach them to fields, so each problem is reported under the field's JSON path.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any

import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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


def risk_score(value: object) -> object:
    """Merchants send the score as a string or, in the lookup example, as a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a string or a number")
    return str(value)


Text10 = Annotated[CleanText, length(10)]
Text20 = Annotated[CleanText, length(20)]
Text50 = Annotated[CleanText, length(50)]
Text100 = Annotated[CleanText, length(100)]
Visible20 = Annotated[VisibleText, length(20)]
Visible40 = Annotated[VisibleText, length(40)]
Name50 = Annotated[VisibleText, length(50)]
Line100 = Annotated[VisibleText, length(100)]
CustomerNumber = Annotated[CustomerNumberText, length(100, 1)]


def present(members: dict[str, Any]) -> dict[str, Any]:
    """The members that are set: a response omits absent members (spec A.5, B.4)."""
    return {key: value for key, value in members.items() if value is not None}

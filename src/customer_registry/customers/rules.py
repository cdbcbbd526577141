"""Rules of the customer domain: national ID checks and the derived search columns.

Pure functions, no I/O. Field types are in ``fields``, phone numbers in ``phones`` and
generated identifiers in ``identifiers``.
"""

import unicodedata

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import fodselsnummer, orgnr

from customer_registry.customers.model import Customer, CustomerType
from customer_registry.customers.phones import phone_e164, quick_phone_e164


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

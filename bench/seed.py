"""Seed-shaped customer rows, with every column the service itself would write.

Rows go through ``customer_registry.customers.rules`` for the derived search columns and the
generated identifiers, so the loaded table is indistinguishable from one filled over HTTP.
"""

import random
import time
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from bench import compat, names
from customer_registry.customers import identifiers
from customer_registry.customers.model import CUSTOMER_FIELDS, STORE_FIELDS, Customer
from customer_registry.db import customers as customers_table

DATA_FIELDS = frozenset(CUSTOMER_FIELDS) - STORE_FIELDS
COLUMNS = tuple(column.name for column in customers_table.columns)
_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_FNR_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORGNR_W = (3, 2, 7, 6, 5, 4, 3, 2)


def customer_number(index: int) -> str:
    """The i-th customer number of every client (the shape of the seed's ``c1631704458``)."""
    return f"c{1_600_000_000 + index}"


class Zipf:
    """Draws from a list with weight 1/rank**0.9: a few very common values, a long tail."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values
        self.cumulative = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(values))))

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


_NO_FIRST, _NO_LAST = Zipf(names.NO_FIRST), Zipf(names.NO_LAST)
_DE_FIRST, _DE_LAST = Zipf(names.DE_FIRST), Zipf(names.DE_LAST)


def _mod11(digits: str, weights: Sequence[int]) -> int:
    return (11 - sum(w * int(d) for w, d in zip(weights, digits, strict=False))) % 11


def fodselsnummer(rng: random.Random) -> str:
    """A valid Norwegian national identity number for someone born 1940-2005."""
    while True:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        # Individual numbers 000-499 are 1900-1999 births, 500-999 from 2000 on.
        individual = rng.randrange(500) if born.year < 2000 else rng.randrange(500, 1000)
        body = f"{born:%d%m%y}{individual:03d}"
        k1 = _mod11(body, _FNR_W1)
        k2 = _mod11(body + str(k1), _FNR_W2)
        if k1 < 10 and k2 < 10:  # 10 is no digit: such numbers are never issued
            return f"{body}{k1}{k2}"


def organisation_number(rng: random.Random) -> str:
    while True:
        body = str(rng.randrange(800_000_00, 999_999_99))
        check = _mod11(body, _ORGNR_W)
        if check < 10:
            return body + str(check)


@dataclass
class Sample:
    """Values found in the loaded data, for the search and lookup scenarios."""

    ssns: list[tuple[int, str]] = field(default_factory=list)
    names: list[tuple[int, str]] = field(default_factory=list)
    rules_seconds: float = 0.0  # CPU spent in derived_columns and the id generators


class CustomerFactory:
    """Builds rows; remembers the identifiers each client has, which must be unique."""

    def __init__(self, seed: int, sample_every: int) -> None:
        self.rng = random.Random(seed)
        self.sample_every = sample_every
        self.sample = Sample()
        self.taken: dict[int, tuple[set[str], set[int]]] = {}
        self.now = datetime.now(UTC)
        self.rules_seconds = 0.0

    def row(self, client_id: int, index: int) -> dict[str, Any]:
        customer = self.customer(client_id, customer_number(index))
        if index % self.sample_every == 0:
            self._remember(customer)
        started = time.process_time()
        values = compat.row_values(customer, DATA_FIELDS)
        ids = self._ids(client_id)
        # What an import would spend per row on the service's own rules, apart from fake data
        # (CPU time: other processes share the 2 cores).
        self.rules_seconds += time.process_time() - started
        stamps = {"version": 1, "created_at": self.now, "updated_at": self.now}
        return {**values, **stamps, **ids}

    def _ids(self, client_id: int) -> dict[str, Any]:
        internal, sign_up = self.taken.setdefault(client_id, (set(), set()))
        number, sign_up_id = identifiers.new_internal_number(), identifiers.new_sign_up_id()
        # 9-digit random ids collide a few times per 100,000 rows; the service retries too.
        while number in internal:
            number = identifiers.new_internal_number()
        while sign_up_id in sign_up:
            sign_up_id = identifiers.new_sign_up_id()
        internal.add(number)
        sign_up.add(sign_up_id)
        return {
            "payment_id": identifiers.new_payment_id(),
            "internal_number": number,
            "sign_up_id": sign_up_id,
        }

    def _remember(self, customer: Customer) -> None:
        if customer.ssn:
            self.sample.ssns.append((customer.client_id, customer.ssn))
        if customer.last_name and self.rng.random() < 0.5:
            self.sample.names.append((customer.client_id, customer.last_name))
        elif customer.first_name and customer.last_name:
            # What a person types: a first name and the start of a surname.
            typed = f"{customer.first_name} {customer.last_name[:3]}"
            self.sample.names.append((customer.client_id, typed))
        elif customer.company_name:
            self.sample.names.append((customer.client_id, customer.company_name.split()[0]))

    def customer(self, client_id: int, number: str) -> Customer:
        rng = self.rng
        norwegian = rng.random() < 0.7
        person = rng.random() < 0.9
        fields = self._person(norwegian) if person else self._company(norwegian)
        fields |= self._address(norwegian, horizon=rng.random() < 0.7)
        return Customer(client_id=client_id, customer_number=number, **fields)

    def _person(self, norwegian: bool) -> dict[str, Any]:
        rng = self.rng
        first = (_NO_FIRST if norwegian else _DE_FIRST).draw(rng)
        last = (_NO_LAST if norwegian else _DE_LAST).draw(rng)
        local = f"{first}.{last}".lower().translate(_ASCII)
        return {
            "type": "Person",
            "first_name": first,
            "last_name": last,
            "ssn": fodselsnummer(rng) if norwegian else None,
            "phone_number": self._phone(norwegian),
            "email": f"{local}{rng.randrange(100)}@{rng.choice(names.MAIL_DOMAINS)}",
            "existing_customer": rng.random() < 0.5,
            "individual_risk_score": rng.choice((None, "low", "medium", "high", "42")),
        }

    def _company(self, norwegian: bool) -> dict[str, Any]:
        rng = self.rng
        forms = names.NO_COMPANY_FORMS if norwegian else names.DE_COMPANY_FORMS
        words = rng.sample(names.COMPANY_WORDS, 2)
        name = f"{words[0]} {words[1]} {rng.choice(forms)}"
        return {
            "type": "Company",
            "company_name": name,
            "organization_number": organisation_number(rng) if norwegian else None,
            "phone_number": self._phone(norwegian),
            "email": f"post@{words[0].lower().translate(_ASCII)}{rng.randrange(1000)}.no",
        }

    def _phone(self, norwegian: bool) -> str:
        rng = self.rng
        if norwegian:
            digits = f"{rng.choice('49')}{rng.randrange(10**7):07d}"
            return rng.choice((f"+47{digits}", f"{digits[:3]} {digits[3:5]} {digits[5:]}"))
        return rng.choice((f"+49151{rng.randrange(10**8):08d}", f"030 {rng.randrange(10**7):07d}"))

    def _address(self, norwegian: bool, *, horizon: bool) -> dict[str, Any]:
        rng = self.rng
        street = rng.choice(names.NO_STREETS if norwegian else names.DE_STREETS)
        postal_code, place = rng.choice(names.NO_PLACES if norwegian else names.DE_PLACES)
        number = str(rng.randrange(1, 120))
        common = {
            "postal_code": postal_code,
            "postal_place": place,
            "country_code": "NO" if norwegian else "DE",
        }
        if horizon:  # a Horizon write stores the whole address line as the street
            return {**common, "street": f"{street} {number}"}
        return {
            **common,
            **self._subscriptions_extras(norwegian),
            "street": street,
            "street_number": number,
            "street_number_additional": rng.choice(("", "a", "b")) or None,
        }

    def _subscriptions_extras(self, norwegian: bool) -> dict[str, Any]:
        rng = self.rng
        return {
            "salutation": rng.choice(("MR", "MRS", "MS")),
            "birth_date": date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55)),
            "language": "NO" if norwegian else "DE",
            "payment_registration_id": str(rng.randrange(10**6)),
            "mobile_phone": self._phone(norwegian),
        }

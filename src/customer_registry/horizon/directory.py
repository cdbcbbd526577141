"""The optional person directory consulted by lookup: a JSONL file, one Horizon PUT body a line.

The file is read on every lookup that misses the store, so operators can replace it without
a restart and every replica sees the same data.
"""

import asyncio
import logging
from pathlib import Path

from pydantic import ValidationError

from customer_registry.customers import rules
from customer_registry.customers.model import Customer, LookupKey
from customer_registry.customers.service import PersonDirectory
from customer_registry.errors import AppError
from customer_registry.horizon.schemas import CustomerIn, to_customer

logger = logging.getLogger(__name__)


def _matches(entry: CustomerIn, key: LookupKey) -> bool:
    if key.field == "IdentificationNumber":
        ids = (
            entry.person and entry.person.ssn,
            entry.company and entry.company.organizationNumber,
        )
        return key.value in ids
    if entry.phoneNumber is None:
        return False
    wanted = rules.phone_e164(key.value) or key.value
    return wanted in (
        entry.phoneNumber,
        rules.phone_e164(entry.phoneNumber, entry.address.countryCode),
    )


def _scan(path: Path, key: LookupKey) -> Customer | None:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = CustomerIn.model_validate_json(line)
                if _matches(entry, key):
                    return to_customer(entry, client_id=0, customer_number="").customer
            except (ValidationError, AppError):
                logger.warning("person directory %s: line %d is not a valid customer", path, number)
    return None


def person_directory(path: Path | None) -> PersonDirectory | None:
    if path is None:
        return None

    async def find(key: LookupKey) -> Customer | None:
        return await asyncio.to_thread(_scan, path, key)

    return find

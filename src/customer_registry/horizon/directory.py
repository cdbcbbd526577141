"""The optional person directory consulted by lookup: a JSONL file, one Horizon PUT body a line.

The file is read on every lookup that misses the store, so operators can replace it without
a restart and every replica sees the same data. ``serve`` checks at start-up that it can be
read; one that stops being readable later answers lookups that miss the store with a 503.
"""

import asyncio
import logging
from pathlib import Path

from pydantic import ValidationError

from customer_registry.customers import phones
from customer_registry.customers.model import Customer, LookupKey
from customer_registry.customers.service import PersonDirectory
from customer_registry.errors import AppError, ConfigurationError
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
    wanted = phones.phone_e164(key.value) or key.value
    return wanted in (
        entry.phoneNumber,
        phones.phone_e164(entry.phoneNumber, entry.address.countryCode),
    )


class DirectoryUnreadable(AppError):
    status = 503
    code = "person-directory-unreadable"
    title = "The person directory cannot be read"


def _problem(path: Path) -> str | None:
    """Why the directory file cannot be read as UTF-8 text; None if it can."""
    try:
        with path.open(encoding="utf-8") as lines:
            for _ in lines:
                pass
    except IsADirectoryError:
        return "is a directory, not a file"
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def check_person_directory(path: Path | None) -> None:
    """Start-up check: raise ``ConfigurationError`` unless the directory file is readable."""
    problem = None if path is None else _problem(path)
    if problem is not None:
        raise ConfigurationError(f"CUSTOMER_REGISTRY_PERSON_DIRECTORY {path}: {problem}")


def _scan(path: Path, key: LookupKey) -> Customer | None:
    try:
        return _first_match(path, key)
    except (OSError, UnicodeDecodeError) as exc:
        # The operator replaced the file with something unreadable: one line, no traceback.
        logger.warning("person directory %s cannot be read: %s", path, type(exc).__name__)
        raise DirectoryUnreadable("the person directory cannot be read; retry later") from None


def _first_match(path: Path, key: LookupKey) -> Customer | None:
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

"""The two storage schemas the bench knows: plain personal data, and sealed (vault) data.

From migration 0002 on, ssn, organisation number, birth date and tax id are stored encrypted
with a blind index beside the searchable ones, and the repository works on a ``Store``
(connection + vault). The bench writes rows through the repository's own row function then,
so loaded rows stay exactly what the service would write.
"""

import os
from pathlib import Path
from typing import Any

from customer_registry import db
from customer_registry.customers import repository, rules
from customer_registry.customers.model import Customer

try:  # the row function's home since the repository split; before it, repository._row
    from customer_registry.customers.sealing import sealed_row as _sealed_row
except ImportError:
    _sealed_row = getattr(repository, "_row", None)

KEY_FILE_VARIABLE = "CUSTOMER_REGISTRY_KEY_FILE"
_STORE: Any = getattr(db, "Store", None)
_ROW: Any = _sealed_row
SEALED = _STORE is not None and _ROW is not None
_vault: Any = None


def use_key_file(path: Path) -> None:
    """Create the key file once, before servers or row generators read it."""
    os.environ[KEY_FILE_VARIABLE] = str(path)
    if SEALED:
        vault()


def vault() -> Any:
    global _vault  # one vault per process, like the service's
    if _vault is None:
        from customer_registry.vault import Vault  # only in the sealed schema

        _vault = Vault.open(Path(os.environ[KEY_FILE_VARIABLE]))
    return _vault


def store(conn: Any) -> Any:
    """What ``search_repository.search`` takes: the connection, or a Store around it."""
    return _STORE(conn, vault()) if SEALED else conn


def row_values(customer: Customer, fields: frozenset[str]) -> dict[str, Any]:
    """Column values for ``fields`` with their derived (and, if sealed, encrypted) columns."""
    if SEALED:
        values: dict[str, Any] = _ROW(_STORE(None, vault()), customer, fields)
        return values
    data = {name: getattr(customer, name) for name in fields}
    return {**data, **rules.derived_columns(customer, fields)}

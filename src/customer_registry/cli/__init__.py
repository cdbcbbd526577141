"""The operator CLI: ``customer-registry serve | migrate | credentials | clients | history | keys |
import | export | idempotency``.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration.
"""

from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from customer_registry.cli import bulk, credentials, data, idempotency, server
from customer_registry.cli.app import app, console
from customer_registry.db import DatabaseError
from customer_registry.errors import ConfigurationError

__all__ = ["app", "bulk", "credentials", "data", "idempotency", "main", "server"]


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise SystemExit(2) from exc
    except CommandError as exc:
        console.print(f"[red]error:[/] migration failed: {exc}")
        raise SystemExit(1) from exc
    except (DBAPIError, *DatabaseError, OSError) as exc:
        # One line for people: the driver's first line names the cause (refused, unknown
        # database, permission), never the values of a statement.
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        console.print(f"[red]error:[/] cannot use the database: {reason}")
        raise SystemExit(1) from exc

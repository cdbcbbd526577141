"""The operator CLI: ``customer-registry serve | migrate | credentials | clients | operators |
history | keys | import | export | idempotency | webhooks | deliver | personal-data``.

Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration.
"""

from customer_registry.cli import (
    bulk,
    credentials,
    data,
    idempotency,
    operators,
    privacy,
    server,
    webhooks,
)
from customer_registry.cli.app import app, console

__all__ = [
    "app",
    "bulk",
    "credentials",
    "data",
    "idempotency",
    "main",
    "operators",
    "privacy",
    "server",
    "webhooks",
]


def main() -> None:
    try:
        app()
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        message, code = failure
        console.print(f"[red]error:[/] {message}", highlight=False)
        raise SystemExit(code) from exc


def _failure(exc: Exception) -> tuple[str, int] | None:
    """What to tell people about a failure, and the exit code; None: a bug, traceback.

    Imported here, not at the top: the modules that raise these are loaded only by the
    commands that need them, so ``--help`` stays fast.
    """
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from customer_registry.db import DatabaseError
    from customer_registry.errors import ConfigurationError

    if isinstance(exc, ConfigurationError):
        return exc.message, 2
    if isinstance(exc, CommandError):
        return f"migration failed: {exc}", 1
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot use {exc.filename}: {exc.strerror}", 1
    if isinstance(exc, (DBAPIError, *DatabaseError, OSError)):
        # One line for people: the driver's first line names the cause (refused, unknown
        # database, permission), never the values of a statement.
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return f"cannot use the database: {reason}", 1
    return None

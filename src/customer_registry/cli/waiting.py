"""``serve`` waits for a database that is not reachable yet.

Containers and machines start in no particular order: a server that exits because its
database is still starting needs a supervisor to start it again, one that waits does not.
"""

import asyncio
import time

import asyncpg
from structlog.typing import FilteringBoundLogger

from customer_registry.config import Settings
from customer_registry.db import database_url

_FIRST_PAUSE_SECONDS = 0.5
_LONGEST_PAUSE_SECONDS = 5.0
# Refused, unresolvable, timed out (all OSError), or PostgreSQL still starting up: worth
# waiting for. A wrong password or database name is not.
_TRANSIENT = (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


def wait_for_database(current: Settings, logger: FilteringBoundLogger) -> None:
    """Return once the database accepts a connection; raise the last error after
    ``db_wait_seconds``. A SQLite file is always there to open."""
    url = database_url(current.database_url)
    if url.get_backend_name() != "postgresql":
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    asyncio.run(_wait(dsn, current.db_wait_seconds, logger))


async def _wait(dsn: str, patience: float, logger: FilteringBoundLogger) -> None:
    deadline = time.monotonic() + patience
    pause, attempt = _FIRST_PAUSE_SECONDS, 1
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=min(10.0, max(patience, 1.0)))
        except _TRANSIENT as exc:
            left = deadline - time.monotonic()
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if left <= 0:
                logger.error("database unreachable", attempt=attempt, reason=reason)
                raise
            pause = min(pause, left)
            logger.warning(
                "database unreachable", attempt=attempt, reason=reason, retry_in_s=round(pause, 1)
            )
            await asyncio.sleep(pause)
            pause, attempt = min(pause * 2, _LONGEST_PAUSE_SECONDS), attempt + 1
        else:
            await connection.close()
            return

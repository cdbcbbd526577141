"""The client-credentials grant as a use case: throttled, authenticated, logged.

The failure is counted in the transaction that found it, which then commits: the request
still fails, but its count stays.
"""

from dataclasses import dataclass

import structlog

from customer_registry.auth import throttle, tokens
from customer_registry.config import Settings
from customer_registry.db import Database
from customer_registry.vault import Vault

logger = structlog.get_logger(__name__)

# Enough of an attempted client id to recognise it in a log line, however long it was.
_LOGGED_CHARACTERS = 100


class ClientRefused(Exception):
    """Unknown client or wrong secret."""


class ClientThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class TokenRequest:
    client_id: str
    secret: str
    address: str


async def grant(database: Database, settings: Settings, vault: Vault, request: TokenRequest) -> str:
    """A bearer token for the request's client; ClientThrottled or ClientRefused else."""
    subjects = throttle.Subjects.of(request.client_id, request.address)
    window = settings.token_failure_window_seconds
    async with database.transaction() as conn:
        retry_after = await throttle.blocked_for(conn, subjects, settings)
        if retry_after is not None:
            raise ClientThrottled(retry_after)
        client = await tokens.authenticate_client(conn, request.client_id, request.secret)
        if client is not None:
            return await tokens.issue_token(conn, settings, vault, client)
        await throttle.count_failure(conn, subjects, window_seconds=window)
    _log_failure(request)
    raise ClientRefused()


def _log_failure(request: TokenRequest) -> None:
    attempted = request.client_id[:_LOGGED_CHARACTERS]
    logger.warning(
        "token request refused: unknown client or wrong secret",
        # Escaped: a JSON log line cannot hold a lone surrogate, a console line no control.
        oauth_client_id=attempted.encode("unicode_escape").decode("ascii"),
        source_address=request.address,
    )

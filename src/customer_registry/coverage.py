"""What a bearer token's credential covers, as the database says at the time of a request.

Apart from ``auth`` so that the customer service can check it: a read asks the database for
the credential's coverage and the customer in one statement (one round trip instead of two),
and the customer's columns come back only when the credential covers its client.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam

from customer_registry.db import credential_clients, credentials
from customer_registry.errors import Forbidden, NotAuthenticated

_cc = credential_clients.c

# Bind parameters: credential_id and client_id.
CREDENTIAL = credentials.outerjoin(
    credential_clients,
    and_(_cc.credential_id == credentials.c.id, _cc.client_id == bindparam("client_id")),
)
WHERE_CREDENTIAL = credentials.c.id == bindparam("credential_id")
COVERAGE_COLUMNS = (
    credentials.c.revoked_at,
    credentials.c.rotated_at,
    _cc.client_id.label("covered_client_id"),
)
COVERED_CLIENT = _cc.client_id


@dataclass(frozen=True, slots=True)
class Claim:
    """A bearer token whose signature holds: the client it names, its credential, its age."""

    client_id: int
    credential_id: str
    issued_at: int

    def require(self, coverage: Any) -> None:
        """Raise unless ``coverage`` (a row of COVERAGE_COLUMNS, None: no such credential)
        shows the credential unrevoked, not rotated since the token, and covering the client."""
        if coverage is None or coverage.revoked_at is not None:
            raise NotAuthenticated("the credential behind this access token has been revoked")
        if coverage.rotated_at is not None and self.issued_at < _epoch(coverage.rotated_at):
            raise NotAuthenticated("the credential's secrets were rotated; request a new token")
        if coverage.covered_client_id is None:
            raise Forbidden(f"this credential does not cover client {self.client_id}")

    def params(self) -> dict[str, Any]:
        return {"credential_id": self.credential_id, "client_id": self.client_id}


def _epoch(moment: datetime) -> int:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())

"""Who may read and write a client's customers: the caller, and what its credential covers.

A bearer token names a credential and the client it acts for; a subscription key names a
credential that must cover exactly one client. Whether the credential still covers the
client is read from the database in the same statement as the customer
(``access_repository``), so a revocation takes effect on the next request and a read costs
one round trip.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from customer_registry.customers.model import Audit, Locked
from customer_registry.errors import Forbidden, NotAuthenticated
from customer_registry.vault import digest


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: the client it acts for and the credential it showed."""

    client_id: int
    credential_id: str
    # For a write to one customer: that customer, read and locked with the coverage.
    locked: Locked | None = None

    def audit(self, dialect: str, request_id: str | None) -> Audit:
        return Audit(dialect, self.credential_id, request_id)


@dataclass(frozen=True, slots=True)
class TokenClaim:
    """A bearer token whose signature holds: the client it names, its credential, its age
    and, for our own tokens, the credential's rotation count when it was issued."""

    client_id: int
    credential_id: str
    issued_at: int
    generation: int | None = None

    def require(self, coverage: Any) -> Caller:
        """The caller, if ``coverage`` (a row of the credential's coverage, None: no such
        credential) shows the credential unrevoked, not rotated since the token, and
        covering the client."""
        if coverage is None or coverage["revoked_at"] is not None:
            raise NotAuthenticated("the credential behind this access token has been revoked")
        if self._rotated_since(coverage):
            raise NotAuthenticated("the credential's secrets were rotated; request a new token")
        if coverage["covered_client_id"] is None:
            raise Forbidden(f"this credential does not cover client {self.client_id}")
        return Caller(self.client_id, self.credential_id)

    def _rotated_since(self, coverage: Any) -> bool:
        if self.generation is not None:
            return bool(self.generation != coverage["token_generation"])
        # Tokens of an identity provider, and ours from before generations were counted.
        rotated_at = coverage["rotated_at"]
        return rotated_at is not None and self.issued_at < _epoch(rotated_at)

    def params(self) -> dict[str, Any]:
        return {"credential_id": self.credential_id, "client_id": self.client_id}


def _epoch(moment: datetime) -> int:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)


def key_params(key: str | None) -> dict[str, Any]:
    """The parameters of a subscription key's lookup; a missing key is refused before it."""
    if not key:
        raise NotAuthenticated(MISSING_KEY)
    return {"key_hash": digest(key)}


def key_caller(coverage: Sequence[Any]) -> Caller:
    """The caller of a subscription key (``coverage``: the clients its credential covers);
    raise unless there is exactly one client."""
    client_ids = sorted(row["covered_client_id"] for row in coverage)
    if not client_ids:
        raise NotAuthenticated(INVALID_KEY)
    if len(client_ids) > 1:
        listed = ", ".join(map(str, client_ids))
        raise Forbidden(
            f"this subscription key covers clients {listed}, but a Subscriptions request "
            "names no client: use the key of a credential created for exactly one client "
            "(customer-registry credentials create --client-id N)"
        )
    return Caller(int(client_ids[0]), str(coverage[0]["credential_id"]))

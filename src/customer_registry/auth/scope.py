"""What a bearer token's credential or a subscription key covers, as the database says at
the time of a request.

Apart from ``auth`` so that the customer service can check it: a read asks the database for
the credential's coverage and the customer in one statement (one round trip instead of two),
and the customer's columns come back only when the credential covers its client.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam

from customer_registry.auth.credentials import digest
from customer_registry.db import credential_clients, credentials
from customer_registry.errors import Forbidden, GatewayError, NotAuthenticated

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
    credentials.c.token_generation,
    _cc.client_id.label("covered_client_id"),
)
COVERED_CLIENT = _cc.client_id


@dataclass(frozen=True, slots=True)
class Claim:
    """A bearer token whose signature holds: the client it names, its credential, its age
    and, for our own tokens, the credential's rotation count when it was issued."""

    client_id: int
    credential_id: str
    issued_at: int
    generation: int | None = None

    def require(self, coverage: Any) -> None:
        """Raise unless ``coverage`` (a row of COVERAGE_COLUMNS, None: no such credential)
        shows the credential unrevoked, not rotated since the token, and covering the client."""
        if coverage is None or coverage["revoked_at"] is not None:
            raise NotAuthenticated("the credential behind this access token has been revoked")
        if self._rotated_since(coverage):
            raise NotAuthenticated("the credential's secrets were rotated; request a new token")
        if coverage["covered_client_id"] is None:
            raise Forbidden(f"this credential does not cover client {self.client_id}")

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


# Subscriptions: the clients an unrevoked subscription key covers (bind parameter key_hash).
KEY_CLIENTS = credential_clients.join(credentials, _cc.credential_id == credentials.c.id)
WHERE_SUBSCRIPTION_KEY = and_(
    credentials.c.subscription_key_hash == bindparam("key_hash"),
    credentials.c.revoked_at.is_(None),
)
KEY_COLUMNS = (COVERED_CLIENT.label("covered_client_id"), credentials.c.id.label("credential_id"))

_MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
_INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """The one client a subscription key covers, and the key's credential."""

    client_id: int
    credential_id: str


def key_params(key: str | None) -> dict[str, Any]:
    """The parameters of WHERE_SUBSCRIPTION_KEY; a missing key is refused before any lookup."""
    if not key:
        raise GatewayError(_MISSING_KEY)
    return {"key_hash": digest(key)}


def key_holder(coverage: Sequence[Any]) -> KeyHolder:
    """The client of ``coverage`` (rows of KEY_COLUMNS); raise unless there is exactly one."""
    client_ids = sorted(row["covered_client_id"] for row in coverage)
    if not client_ids:
        raise GatewayError(_INVALID_KEY)
    if len(client_ids) > 1:
        listed = ", ".join(map(str, client_ids))
        raise Forbidden(
            f"this subscription key covers clients {listed}, but a Subscriptions request "
            "names no client: use the key of a credential created for exactly one client "
            "(customer-registry credentials create --client-id N)"
        )
    return KeyHolder(int(client_ids[0]), str(coverage[0]["credential_id"]))

"""The SQL of access: what a credential covers, read alone or joined to a customer's read."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select

from customer_registry.customers.access import Caller, TokenClaim, key_caller, key_params
from customer_registry.db import Sql, Tx, credential_clients, credentials

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

# Subscriptions: the clients an unrevoked subscription key covers (bind parameter key_hash).
KEY_CLIENTS = credential_clients.join(credentials, _cc.credential_id == credentials.c.id)
WHERE_SUBSCRIPTION_KEY = and_(
    credentials.c.subscription_key_hash == bindparam("key_hash"),
    credentials.c.revoked_at.is_(None),
)
KEY_COLUMNS = (COVERED_CLIENT.label("covered_client_id"), credentials.c.id.label("credential_id"))

# Built once: they run on every authenticated request that reads no customer.
_COVERAGE = Sql(select(*COVERAGE_COLUMNS).select_from(CREDENTIAL).where(WHERE_CREDENTIAL))
_KEY_COVERAGE = Sql(select(*KEY_COLUMNS).select_from(KEY_CLIENTS).where(WHERE_SUBSCRIPTION_KEY))


async def get_token_caller(conn: Tx, claim: TokenClaim) -> Caller:
    """The caller of a bearer token, once its credential is shown to cover the client."""
    return claim.require(await conn.fetchrow(_COVERAGE, claim.params()))


async def get_key_caller(conn: Tx, key: str | None) -> Caller:
    """The caller of a subscription key: the one client its unrevoked credential covers."""
    coverage: Sequence[Any] = await conn.fetch(_KEY_COVERAGE, key_params(key))
    return key_caller(coverage)

"""Access tokens and the authenticated principal.

A credential (credentials.py) carries an OAuth client secret, exchanged for a bearer JWT at
/oauth/token (Horizon dialect), and a subscription key (Subscriptions dialect).
"""

import dataclasses
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Path, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyHeader, OAuth2
from sqlalchemy import bindparam, select

from customer_registry.auth import signing
from customer_registry.auth.credentials import digest
from customer_registry.auth.external_tokens import ExternalIssuer
from customer_registry.auth.scope import (
    COVERAGE_COLUMNS,
    CREDENTIAL,
    KEY_CLIENTS,
    KEY_COLUMNS,
    WHERE_CREDENTIAL,
    WHERE_SUBSCRIPTION_KEY,
    Claim,
    key_holder,
    key_params,
)
from customer_registry.config import Settings
from customer_registry.customers.model import Audit, Locked
from customer_registry.db import Sql, Tx, credentials
from customer_registry.db.request import CustomerStore
from customer_registry.errors import NotAuthenticated
from customer_registry.vault import Vault

TOKEN_SCOPE = "customer:read customer:write"
_ALGORITHM = "HS256"
MAX_CLIENT_ID = 2**63 - 1


_CLIENT_SECRET = Sql(
    select(credentials.c.id, credentials.c.oauth_secret_hash, credentials.c.token_generation).where(
        credentials.c.oauth_client_id == bindparam("oauth_client_id"),
        credentials.c.revoked_at.is_(None),
    )
)


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    """An OAuth client whose secret held: its credential and that credential's rotations."""

    credential_id: str
    token_generation: int


async def authenticate_client(
    conn: Tx, oauth_client_id: str, oauth_client_secret: str
) -> AuthenticatedClient | None:
    """The credential of a valid, unrevoked OAuth client id and secret."""
    row = await conn.fetchrow(_CLIENT_SECRET, {"oauth_client_id": oauth_client_id})
    if row is None or not hmac.compare_digest(
        row["oauth_secret_hash"], digest(oauth_client_secret)
    ):
        return None
    return AuthenticatedClient(str(row["id"]), int(row["token_generation"]))


_CREDENTIAL_OF = Sql(
    select(credentials.c.id).where(credentials.c.oauth_client_id == bindparam("oauth_client_id"))
)


async def issue_token(
    conn: Tx, settings: Settings, vault: Vault, client: AuthenticatedClient
) -> str:
    kid, secret = await signing.signing_key(conn, vault)
    now = int(time.time())
    claims = {
        "sub": client.credential_id,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + settings.token_ttl_seconds,
        "scope": TOKEN_SCOPE,
        "jti": secrets.token_hex(8),
        # The credential's rotations so far: a rotation refuses the token at once, even one
        # issued in the same second (``iat`` has whole seconds only).
        "gen": client.token_generation,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM, headers={"kid": kid})


def _verify(token: str, secret: str, audience: str) -> dict[str, Any]:
    """The claims of a token whose signature and audience hold (expiry is checked per use)."""
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=audience,
            options={"require": ["exp", "iat", "sub", "aud"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the access token is invalid: {exc}") from exc


def _key_id(token: str) -> object:
    try:
        return jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the access token is invalid: {exc}") from exc


async def _own_claims(request: Request, conn: Tx, token: str) -> dict[str, Any] | None:
    """The claims of a token we signed with a key that still verifies; None if not ours."""
    state = request.app.state
    verified: signing.VerifiedTokens = state.verified_tokens
    known = verified.get(token)
    if known is None:
        kid = _key_id(token)
        if not signing.is_own_key_id(kid):
            return None
    else:
        kid = known[0]
    secret = await state.verification_keys.secret(conn, kid)
    if secret is None:
        return None
    if known is not None:
        return known[1]
    claims = _verify(token, secret, state.settings.token_audience)
    verified.add(token, kid, claims)
    return claims


async def _token_identity(request: Request, conn: Tx, token: str) -> Claim:
    """The claim of a bearer token on a client (whose id the caller fills in)."""
    if len(token) > signing.MAX_TOKEN_BYTES:
        raise NotAuthenticated("the access token is longer than any this service issues")
    claims = await _own_claims(request, conn, token)
    if claims is not None:
        if claims["exp"] <= time.time():
            raise NotAuthenticated("the access token has expired; request a new one")
        return Claim(0, str(claims["sub"]), int(claims["iat"]), claims.get("gen"))
    issuer: ExternalIssuer | None = request.app.state.external_issuer
    if issuer is None:
        raise NotAuthenticated("the access token was not issued by this service")
    oauth_client_id, issued_at = await issuer.identify(token)
    credential_id = await conn.fetchval(_CREDENTIAL_OF, {"oauth_client_id": oauth_client_id})
    if credential_id is None:
        raise NotAuthenticated(f"no credential here for OAuth client {oauth_client_id!r}")
    return Claim(0, str(credential_id), issued_at, None)


oauth2_scheme = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token")),
    scheme_name="OAuth2ClientCredentials",
    description="Client-credentials grant at POST /oauth/token; send the token as Bearer.",
    auto_error=False,
)


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if not authorization:
        raise NotAuthenticated("an Authorization: Bearer <access token> header is required")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <access token>'")
    return token.strip()


# Built once: the statement runs on every authenticated request.
_COVERAGE = Sql(select(*COVERAGE_COLUMNS).select_from(CREDENTIAL).where(WHERE_CREDENTIAL))


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the client it acts for and the credential it showed."""

    client_id: int
    credential_id: str
    # For a write to one customer: that customer, read and locked with the coverage.
    locked: Locked | None = None

    def audit(self, request: Request, dialect: str) -> Audit:
        # Set by the observability middleware: the caller's X-Request-ID or a generated one.
        return Audit(dialect, self.credential_id, getattr(request.state, "request_id", None))


async def horizon_claim(
    request: Request,
    store: CustomerStore,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
    client_id: Annotated[int, Path(alias="clientId", ge=1, le=MAX_CLIENT_ID)],
) -> Claim:
    """The bearer token's claim on the path's client; whoever takes it checks the coverage."""
    return await bearer_claim(request, store.conn, authorization, client_id)


async def bearer_claim(
    request: Request, conn: Tx, authorization: str | None, client_id: int
) -> Claim:
    """The claim of the ``Authorization`` header's bearer token on ``client_id``."""
    token = _bearer_token(authorization)
    return dataclasses.replace(await _token_identity(request, conn, token), client_id=client_id)


async def horizon_client(
    store: CustomerStore, claim: Annotated[Claim, Depends(horizon_claim)]
) -> Principal:
    """The path's client, once the bearer token is shown to cover it."""
    return await covered(store.conn, claim)


async def covered(conn: Tx, claim: Claim) -> Principal:
    """``horizon_client`` without FastAPI: for the plain routes."""
    claim.require(await conn.fetchrow(_COVERAGE, claim.params()))
    return Principal(claim.client_id, claim.credential_id)


# For reads that fetch the coverage with the customer (customers.service.read_as).
BearerClaim = Annotated[Claim, Depends(horizon_claim)]
BearerPrincipal = Annotated[Principal, Depends(horizon_client)]


subscription_key_scheme = APIKeyHeader(
    name="X-Subscription-Key",
    scheme_name="SubscriptionKey",
    description="The subscriptionKey printed by `customer-registry credentials create`.",
    auto_error=False,
)
SubscriptionKey = Annotated[str | None, Depends(subscription_key_scheme)]
_KEY_COVERAGE = Sql(select(*KEY_COLUMNS).select_from(KEY_CLIENTS).where(WHERE_SUBSCRIPTION_KEY))


async def subscription_client(store: CustomerStore, key: SubscriptionKey) -> Principal:
    """The one client an unrevoked subscription key covers."""
    return await key_principal(store.conn, key)


async def key_principal(conn: Tx, key: str | None) -> Principal:
    """``subscription_client`` without FastAPI: for the plain routes."""
    holder = key_holder(await conn.fetch(_KEY_COVERAGE, key_params(key)))
    return Principal(holder.client_id, holder.credential_id)


SubscriptionPrincipal = Annotated[Principal, Depends(subscription_client)]

"""Access tokens: issued for an OAuth client's secret, verified on every bearer request.

A credential (credentials.py) carries an OAuth client secret, exchanged for a bearer JWT at
/oauth/token, and a subscription key. Our tokens are HS256 with the sealed signing keys of
``signing``; with an identity provider configured, its tokens are verified by its JWKS.
"""

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import bindparam, select
from starlette.requests import Request

from customer_registry.auth import signing
from customer_registry.config import Settings
from customer_registry.customers.access import TokenClaim
from customer_registry.db import Sql, Tx, credentials
from customer_registry.errors import NotAuthenticated
from customer_registry.runtime import runtime
from customer_registry.vault import Vault, digest

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
    state = runtime(request)
    verified = state.verified_tokens
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


async def claim(request: Request, conn: Tx, token: str, client_id: int) -> TokenClaim:
    """The claim of a bearer token on ``client_id``, once its signature holds."""
    if len(token) > signing.MAX_TOKEN_BYTES:
        raise NotAuthenticated("the access token is longer than any this service issues")
    claims = await _own_claims(request, conn, token)
    if claims is not None:
        if claims["exp"] <= time.time():
            raise NotAuthenticated("the access token has expired; request a new one")
        return TokenClaim(client_id, str(claims["sub"]), int(claims["iat"]), claims.get("gen"))
    issuer = runtime(request).external_issuer
    if issuer is None:
        raise NotAuthenticated("the access token was not issued by this service")
    oauth_client_id, issued_at = await issuer.identify(token)
    credential_id = await conn.fetchval(_CREDENTIAL_OF, {"oauth_client_id": oauth_client_id})
    if credential_id is None:
        raise NotAuthenticated(f"no credential here for OAuth client {oauth_client_id!r}")
    return TokenClaim(client_id, str(credential_id), issued_at, None)

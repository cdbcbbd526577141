"""Bearer tokens from the operator's own identity provider, verified with its JWKS.

With ``CUSTOMER_REGISTRY_OAUTH_JWKS_URL`` set, a token this service did not issue is checked
against the provider's published keys, its audience (``TOKEN_AUDIENCE``) and, if set, its
issuer. The token's client (``azp``, else ``client_id``) must be the ``oauthClientId`` of a
credential here, created with ``credentials create --oauth-client-id``: clients, revocation
and rotation stay managed in one place.
"""

import asyncio

import jwt
from jwt import PyJWKClient

from customer_registry.errors import AppError, NotAuthenticated

_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class IssuerUnreachable(AppError):
    status = 503
    code = "issuer-unreachable"
    title = "Identity provider unreachable"


class ExternalIssuer:
    def __init__(self, jwks_url: str, audience: str, issuer: str | None) -> None:
        # Keys are cached for five minutes: a rotated provider key is picked up soon after.
        self._keys = PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._audience = audience
        self._issuer = issuer

    async def identify(self, token: str) -> tuple[str, int]:
        """The token's OAuth client id and issue time, once its signature and claims hold."""
        try:
            key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as exc:
            raise IssuerUnreachable("the identity provider's keys cannot be fetched") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"the access token is invalid: {exc}") from exc
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=_ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("the access token has expired; request a new one") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"the access token is invalid: {exc}") from exc
        client = claims.get("azp") or claims.get("client_id")
        if not client:
            raise NotAuthenticated("the access token names no client (azp or client_id)")
        return str(client), int(claims.get("iat", 0))

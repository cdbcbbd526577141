"""The caller of a request, as FastAPI dependencies: a bearer token on the path's client
(Horizon and the registry's own API) or a subscription key (Subscriptions).
"""

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyHeader, OAuth2

from customer_registry.auth import tokens
from customer_registry.customers.access import Caller, TokenClaim
from customer_registry.customers.access_repository import get_key_caller, get_token_caller
from customer_registry.db import Tx
from customer_registry.db.request import CustomerStore
from customer_registry.errors import NotAuthenticated

MAX_CLIENT_ID = 2**63 - 1


def request_id(request: Request) -> str | None:
    """The caller's X-Request-ID or a generated one (set by the observability middleware)."""
    return getattr(request.state, "request_id", None)


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


async def horizon_claim(
    request: Request,
    store: CustomerStore,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
    client_id: Annotated[int, Path(alias="clientId", ge=1, le=MAX_CLIENT_ID)],
) -> TokenClaim:
    """The bearer token's claim on the path's client; whoever takes it checks the coverage."""
    return await bearer_claim(request, store.conn, authorization, client_id)


async def bearer_claim(
    request: Request, conn: Tx, authorization: str | None, client_id: int
) -> TokenClaim:
    """The claim of the ``Authorization`` header's bearer token on ``client_id``."""
    return await tokens.claim(request, conn, _bearer_token(authorization), client_id)


async def horizon_client(
    store: CustomerStore, claim: Annotated[TokenClaim, Depends(horizon_claim)]
) -> Caller:
    """The path's client, once the bearer token is shown to cover it."""
    return await get_token_caller(store.conn, claim)


# For reads that fetch the coverage with the customer (customers.service.read_as).
BearerClaim = Annotated[TokenClaim, Depends(horizon_claim)]
BearerCaller = Annotated[Caller, Depends(horizon_client)]


subscription_key_scheme = APIKeyHeader(
    name="X-Subscription-Key",
    scheme_name="SubscriptionKey",
    description="The subscriptionKey printed by `customer-registry credentials create`.",
    auto_error=False,
)
SubscriptionKey = Annotated[str | None, Depends(subscription_key_scheme)]


async def subscription_client(store: CustomerStore, key: SubscriptionKey) -> Caller:
    """The one client an unrevoked subscription key covers."""
    return await get_key_caller(store.conn, key)


SubscriptionCaller = Annotated[Caller, Depends(subscription_client)]

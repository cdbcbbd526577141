from typing import Any

import httpx
import pytest

from customer_registry.auth import credentials
from tests.conftest import load

CUSTOMERS = "/subscriptions/v1/customers"


def seed_post(**changes: Any) -> dict[str, Any]:
    """The seed's POST body, with members of ``customer`` replaced."""
    body: dict[str, Any] = load("subscriptions_post_request.json")
    body["customer"].update(changes)
    return body


def keyed(http: httpx.AsyncClient, issued: credentials.IssuedCredential) -> httpx.AsyncClient:
    http.headers["X-Subscription-Key"] = issued.subscription_key
    return http


@pytest.fixture
def subscriptions(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> httpx.AsyncClient:
    """The test client, sending the subscription key of ``client_id``'s credential."""
    return keyed(client, credential)

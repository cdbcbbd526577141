"""A request with a body is authenticated before its body is parsed, on every route."""

import httpx
import pytest

from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

_MALFORMED = b'{"type": "Person", '
_JSON = {"Content-Type": "application/json"}


def _horizon_routes(client_id: int) -> list[tuple[str, str]]:
    base = f"/customer/v1/clients/{client_id}"
    return [
        ("PUT", customer_url(client_id, "c1")),
        ("POST", f"{base}/customers/search"),
        ("POST", f"{base}/lookup/customer"),
    ]


_SUBSCRIPTIONS_ROUTES = [("POST", CUSTOMERS), ("PUT", f"{CUSTOMERS}/c1")]

# The plain routes take requests without idempotency headers; the FastAPI twins the others.
_PATHS = [{}, {"Idempotency-Key": "k-1"}]


@pytest.mark.parametrize("extra", _PATHS)
@pytest.mark.parametrize(
    "credential", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
)
async def test_malformed_json_with_no_or_a_forged_bearer_token_is_401(
    client: httpx.AsyncClient, client_id: int, credential: dict[str, str], extra: dict[str, str]
) -> None:
    for method, path in _horizon_routes(client_id):
        headers = {**_JSON, **credential, **extra}
        response = await client.request(method, path, content=_MALFORMED, headers=headers)

        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("extra", [*_PATHS, {"X-Request-ID": "order-1"}])
@pytest.mark.parametrize("credential", [{}, {"X-Subscription-Key": "not-a-key"}])
async def test_malformed_json_with_no_or_a_wrong_subscription_key_is_401(
    client: httpx.AsyncClient, credential: dict[str, str], extra: dict[str, str]
) -> None:
    for method, path in _SUBSCRIPTIONS_ROUTES:
        headers = {**_JSON, **credential, **extra}
        response = await client.request(method, path, content=_MALFORMED, headers=headers)

        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["statusCode"] == 401


@pytest.mark.parametrize("extra", _PATHS)
async def test_with_valid_credentials_malformed_json_is_still_a_400(
    both: httpx.AsyncClient, client_id: int, extra: dict[str, str]
) -> None:
    routes = [*_horizon_routes(client_id), *_SUBSCRIPTIONS_ROUTES]
    for method, path in routes:
        response = await both.request(method, path, content=_MALFORMED, headers=_JSON | extra)

        assert response.status_code == 400, (method, path, response.text)


async def test_valid_bodies_with_valid_credentials_are_written_on_both_paths(
    both: httpx.AsyncClient, client_id: int
) -> None:
    url = customer_url(client_id, "c1")
    plain = await both.put(url, json=person())
    twin = await both.put(url, json=person(), headers={"Idempotency-Key": "k-2"})
    created = await both.post(CUSTOMERS, json=seed_post())

    assert [plain.status_code, twin.status_code, created.status_code] == [200, 200, 200]

import httpx
from fastapi import FastAPI

from customer_registry.auth import credentials
from tests.conftest import create_credential, new_client_id
from tests.subscriptions.conftest import CUSTOMERS, keyed, seed_post

MISSING = {
    "statusCode": 401,
    "message": "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API.",
}
INVALID = {
    "statusCode": 401,
    "message": "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription.",
}


async def test_missing_key_is_the_gateways_401(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(f"{CUSTOMERS}/c1"),
        await client.post(CUSTOMERS, json=seed_post()),
        await client.put(f"{CUSTOMERS}/c1", content=b"{broken"),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert response.json() == MISSING


async def test_unknown_key_is_the_gateways_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{CUSTOMERS}/c1", headers={"X-Subscription-Key": "nope"})

    assert response.status_code == 401
    assert response.json() == INVALID


async def test_revoked_key_is_the_gateways_401(
    subscriptions: httpx.AsyncClient, app: FastAPI, credential: credentials.IssuedCredential
) -> None:
    async with app.state.runtime.database.transaction() as conn:
        await credentials.revoke_credential(conn, credential.oauth_client_id)

    response = await subscriptions.get(f"{CUSTOMERS}/c1")

    assert response.status_code == 401
    assert response.json() == INVALID


async def test_key_for_several_clients_is_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    issued = await create_credential(app, new_client_id(), new_client_id())
    for response in (
        await keyed(client, issued).post(CUSTOMERS, json=seed_post()),
        await keyed(client, issued).get(f"{CUSTOMERS}/c1"),
    ):
        assert response.status_code == 403
        assert "exactly one client" in response.json()["message"]


async def test_a_refused_key_comes_before_a_refused_customer_number(
    client: httpx.AsyncClient,
) -> None:
    number = "n" * 101  # over the 100 characters a customer number may have
    missing = await client.get(f"{CUSTOMERS}/{number}")
    unknown = await client.get(f"{CUSTOMERS}/{number}", headers={"X-Subscription-Key": "nope"})

    assert (missing.status_code, missing.json()) == (401, MISSING)
    assert (unknown.status_code, unknown.json()) == (401, INVALID)


async def test_key_of_one_client_never_reads_or_writes_another_clients_customers(
    client: httpx.AsyncClient, app: FastAPI, credential: credentials.IssuedCredential
) -> None:
    owner = {"X-Subscription-Key": credential.subscription_key}
    intruder_key = (await create_credential(app, new_client_id())).subscription_key
    intruder = {"X-Subscription-Key": intruder_key}
    url = f"{CUSTOMERS}/c1631704458"
    await client.post(CUSTOMERS, json=seed_post(), headers=owner)
    original = (await client.get(url, headers=owner)).json()

    assert (await client.get(url, headers=intruder)).status_code == 404
    assert (await client.put(url, json=seed_post(), headers=intruder)).status_code == 404
    own_copy = await client.post(CUSTOMERS, json=seed_post(firstName="Mallory"), headers=intruder)

    assert own_copy.status_code == 200
    assert (await client.get(url, headers=owner)).json() == original
    assert (await client.get(url, headers=intruder)).json()["firstName"] == "Mallory"


async def test_bearer_token_does_not_open_the_subscriptions_api(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> None:
    response = await client.get(
        f"{CUSTOMERS}/c1", headers={"Authorization": f"Bearer {credential.subscription_key}"}
    )

    assert response.json() == MISSING

import time

import httpx
import jwt
import pytest
from fastapi import FastAPI

from customer_registry.auth import credentials, signing
from tests.conftest import create_credential, new_client_id, token_for
from tests.horizon.conftest import customer_url, person


async def _signing_key(app: FastAPI) -> tuple[str, str]:
    async with app.state.runtime.database.transaction() as conn:
        return await signing.signing_key(conn, app.state.runtime.vault)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Token abc"],
)
async def test_missing_or_malformed_authorization_is_401(
    client: httpx.AsyncClient, client_id: int, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get(customer_url(client_id, "c1"), headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["category"] == "BUSINESS_ERROR"


async def _self_made_token(
    app: FastAPI, credential: credentials.IssuedCredential, *, age: int, secret: str | None = None
) -> str:
    """A token like ours, issued ``age`` seconds ago for one hour, signed with ``secret``."""
    kid, ours = await _signing_key(app)
    now = int(time.time())
    claims = {
        "sub": credential.credential_id,
        "aud": app.state.runtime.settings.token_audience,
        "iat": now - age,
        "exp": now - age + 3600,
    }
    return jwt.encode(claims, secret or ours, algorithm="HS256", headers={"kid": kid})


async def test_expired_token_is_401(
    client: httpx.AsyncClient,
    app: FastAPI,
    credential: credentials.IssuedCredential,
    client_id: int,
) -> None:
    await token_for(client, credential)
    token = await _self_made_token(app, credential, age=7200)

    response = await client.get(
        customer_url(client_id, "c1"), headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert "expired" in response.json()["message"]


async def test_token_signed_with_another_key_is_401(
    client: httpx.AsyncClient,
    app: FastAPI,
    credential: credentials.IssuedCredential,
    client_id: int,
) -> None:
    await token_for(client, credential)
    forged = await _self_made_token(app, credential, age=0, secret="guessed-secret-" * 4)

    response = await client.get(
        customer_url(client_id, "c1"), headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


async def test_token_of_another_client_is_403_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    other = await create_credential(app, new_client_id())
    client.headers["Authorization"] = f"Bearer {await token_for(client, other)}"

    put = await client.put(customer_url(client_id, "c1"), json=person())
    get = await client.get(customer_url(client_id, "c1"))

    assert (put.status_code, get.status_code) == (403, 403)
    assert put.headers["content-type"] == "application/problem+json"


async def test_a_second_client_never_sees_the_first_clients_customers(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await horizon.put(customer_url(client_id, "shared-number"), json=person())
    second_id = new_client_id()
    second = await create_credential(app, second_id)
    horizon.headers["Authorization"] = f"Bearer {await token_for(horizon, second)}"

    get = await horizon.get(customer_url(second_id, "shared-number"))
    search = await horizon.post(
        f"/customer/v1/clients/{second_id}/customers/search",
        json={"searchValue": "shared-number", "searchColumn": "customerNumber"},
    )

    assert get.status_code == 404
    assert search.json() == {"items": [], "total": 0}


async def test_one_credential_can_cover_several_clients(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    first, second = new_client_id(), new_client_id()
    issued = await create_credential(app, first, second)
    client.headers["Authorization"] = f"Bearer {await token_for(client, issued)}"

    for covered in (first, second):
        response = await client.put(customer_url(covered, "c1"), json=person())
        assert response.status_code == 200


async def test_revoked_credentials_tokens_stop_working(
    horizon: httpx.AsyncClient,
    app: FastAPI,
    credential: credentials.IssuedCredential,
    client_id: int,
) -> None:
    assert (await horizon.get(customer_url(client_id, "c1"))).status_code == 404
    async with app.state.runtime.database.transaction() as conn:
        assert await credentials.revoke_credential(conn, credential.oauth_client_id)

    response = await horizon.get(customer_url(client_id, "c1"))

    assert response.status_code == 401
    assert "revoked" in response.json()["message"]

import base64

import httpx
import jwt
import pytest
from fastapi import FastAPI

from customer_registry.auth import credentials


def form(issued: credentials.IssuedCredential, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": issued.oauth_client_id,
        "client_secret": issued.oauth_client_secret,
        **extra,
    }


async def test_form_request_with_documented_audience_gets_a_bearer_token(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential, app: FastAPI
) -> None:
    response = await client.post(
        "/oauth/token", data=form(credential, audience="https://api.horizonafs.io")
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://api.horizonafs.io"
    assert claims["exp"] - claims["iat"] == 86400


async def test_json_request_gets_a_token(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> None:
    response = await client.post("/oauth/token", json=form(credential))

    assert response.status_code == 200


async def test_http_basic_client_authentication_gets_a_token(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> None:
    pair = f"{credential.oauth_client_id}:{credential.oauth_client_secret}".encode()
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
    )

    assert response.status_code == 200


async def test_token_from_one_app_works_in_another_over_the_same_database(
    client: httpx.AsyncClient,
    credential: credentials.IssuedCredential,
    app: FastAPI,
    client_id: int,
) -> None:
    from customer_registry.app import create_app

    token = (await client.post("/oauth/token", data=form(credential))).json()["access_token"]
    restarted = create_app(app.state.runtime.settings)
    transport = httpx.ASGITransport(app=restarted)
    async with httpx.AsyncClient(transport=transport, base_url="https://x.test") as other:
        response = await other.get(
            f"/customer/v1/clients/{client_id}/customers/nobody",
            headers={"Authorization": f"Bearer {token}"},
        )
    await restarted.state.runtime.database.close()

    assert response.status_code == 404


@pytest.mark.parametrize("field", ["client_secret", "client_id"])
async def test_wrong_client_credentials_are_invalid_client(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential, field: str
) -> None:
    response = await client.post("/oauth/token", data=form(credential, **{field: "wrong"}))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_revoked_credential_gets_no_token(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential, app: FastAPI
) -> None:
    async with app.state.runtime.database.transaction() as conn:
        await credentials.revoke_credential(conn, credential.oauth_client_id)

    response = await client.post("/oauth/token", data=form(credential))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("grant", ["password", "authorization_code", ""])
async def test_other_grant_types_are_unsupported(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential, grant: str
) -> None:
    response = await client.post("/oauth/token", data=form(credential, grant_type=grant))

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b"[]", "application/json"),
        (b"x", "text/plain"),
        # Nested deeper than the JSON parser recurses: was a 500.
        (b"[" * 100_000, "application/json"),
    ],
)
async def test_unreadable_token_request_is_invalid_request(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post(
        "/oauth/token", content=content, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_unknown_audience_is_refused(
    client: httpx.AsyncClient, credential: credentials.IssuedCredential
) -> None:
    response = await client.post("/oauth/token", data=form(credential, audience="https://x"))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"

"""Tokens of the operator's own identity provider, verified with its JWKS."""

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm

from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings
from tests.conftest import BASE_URL, new_client_id
from tests.horizon.conftest import customer_url

ISSUER = "https://idp.example.test/"
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(RSAAlgorithm.to_jwk(PRIVATE_KEY.public_key()))
    document = json.dumps({"keys": [{**public, "kid": "idp-1", "use": "sig"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def idp_app(settings: Settings, jwks_url: str) -> AsyncIterator[FastAPI]:
    provider = {"oauth_jwks_url": jwks_url, "oauth_issuer": ISSUER}
    app = create_app(settings.model_copy(update=provider))
    yield app
    await app.state.runtime.database.close()


def idp_token(client: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": "https://api.horizonafs.io", "azp": client,
        "sub": f"{client}@clients", "iat": now, "exp": now + 600, **changes,
    }  # fmt: skip
    return jwt.encode(claims, PRIVATE_KEY, algorithm="RS256", headers={"kid": "idp-1"})


async def _get(app: FastAPI, client_id: int, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        url = customer_url(client_id, "c1")
        return await http.get(url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def idp_client(idp_app: FastAPI) -> tuple[int, str]:
    client_id, oauth_client = new_client_id(), f"idp-{new_client_id()}"
    async with idp_app.state.runtime.database.transaction() as conn:
        await credentials.create_credential(conn, [client_id], "idp", oauth_client)
    return client_id, oauth_client


async def test_a_token_of_the_configured_provider_is_accepted(
    idp_app: FastAPI, idp_client: tuple[int, str]
) -> None:
    client_id, oauth_client = idp_client

    response = await _get(idp_app, client_id, idp_token(oauth_client))

    assert response.status_code == 404  # authenticated: the customer does not exist


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://someone.else"},
        {"iss": "https://evil.example/"},
        {"exp": int(time.time()) - 10},
        {"azp": "unknown-client"},
    ],
)
async def test_a_token_with_wrong_claims_is_401(
    idp_app: FastAPI, idp_client: tuple[int, str], changes: dict[str, Any]
) -> None:
    client_id, oauth_client = idp_client

    response = await _get(idp_app, client_id, idp_token(oauth_client, **changes))

    assert response.status_code == 401


async def test_the_credential_still_decides_clients_and_revocation(
    idp_app: FastAPI, idp_client: tuple[int, str]
) -> None:
    client_id, oauth_client = idp_client
    other_client = await _get(idp_app, new_client_id(), idp_token(oauth_client))
    async with idp_app.state.runtime.database.transaction() as conn:
        await credentials.revoke_credential(conn, oauth_client)
    revoked = await _get(idp_app, client_id, idp_token(oauth_client))

    assert other_client.status_code == 403
    assert revoked.status_code == 401


async def test_without_a_provider_foreign_tokens_are_401(
    app: FastAPI, idp_client: tuple[int, str]
) -> None:
    client_id, oauth_client = idp_client

    response = await _get(app, client_id, idp_token(oauth_client))

    assert response.status_code == 401

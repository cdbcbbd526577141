"""Behind a proxy on another host: its X-Forwarded-Proto and Host shape the links, when trusted.

The proxy here connects from 127.0.0.2, an address other than the server's loopback default
that stands for another host; CUSTOMER_REGISTRY_FORWARDED_ALLOW_IPS names it. The public
URL setting is unset, so the links come from the request.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from customer_registry.auth.credentials import IssuedCredential
from tests.conftest import load, running_server

pytestmark = pytest.mark.slow  # real server processes

PROXY = "127.0.0.2"
# What the proxy forwards: the Host its client asked for, and the scheme it was asked in.
FORWARDED = {"Host": "localhost:8443", "X-Forwarded-Proto": "https"}


@pytest.fixture
def proxied(database_url: str, key_file: Path, tmp_path: Path) -> Iterator[str]:
    trusted = {"CUSTOMER_REGISTRY_FORWARDED_ALLOW_IPS": PROXY}
    with running_server(database_url, key_file, tmp_path, workers=2, **trusted) as base:
        yield base


def _put_from(address: str, base: str, issued: IssuedCredential, path: str) -> Any:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, base_url=base, headers=FORWARDED) as http:
        secrets = {"client_id": issued.oauth_client_id, "client_secret": issued.oauth_client_secret}
        token = http.post("/oauth/token", data={"grant_type": "client_credentials", **secrets})
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = http.put(path, json=load("horizon_put_request.json"), headers=bearer)
    assert response.status_code == 200, response.text
    return response.json()


def _hrefs(representation: Any) -> list[str]:
    return [link["href"] for link in representation["_links"]]


def test_a_trusted_proxy_shapes_the_links(
    proxied: str, credential: IssuedCredential, client_id: int
) -> None:
    path = f"/customer/v1/clients/{client_id}/customers/proxied-1"
    hrefs = _hrefs(_put_from(PROXY, proxied, credential, path))
    assert f"https://localhost:8443{path}" in hrefs
    assert all(href.startswith("https://localhost:8443/") for href in hrefs)


def test_another_peer_cannot_claim_https(
    proxied: str, credential: IssuedCredential, client_id: int
) -> None:
    # 127.0.0.1 is trusted only by default: the setting replaced it with the proxy.
    path = f"/customer/v1/clients/{client_id}/customers/direct-1"
    hrefs = _hrefs(_put_from("127.0.0.1", proxied, credential, path))
    assert f"http://localhost:8443{path}" in hrefs

"""Links and redirects never carry a Host the operator did not allow."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.config import Settings
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

EVIL = {"Host": "evil.example"}
TWIN = {"Idempotency-Key": "allowed-hosts"}


def configure(app: FastAPI, **changes: Any) -> None:
    app.state.runtime.settings = app.state.runtime.settings.model_copy(update=changes)


@pytest.mark.parametrize("headers", [EVIL, {**EVIL, **TWIN}], ids=["plain", "twin"])
async def test_horizon_answers_for_a_host_not_allowed_are_400(
    both: httpx.AsyncClient, client_id: int, headers: dict[str, str]
) -> None:
    search = {"searchValue": "c1", "searchColumn": "customerNumber"}
    lookup = {"lookupField": "PhoneNumber", "lookupValue": "+4712345678"}
    responses = [
        await both.put(customer_url(client_id, "c1"), json=person(), headers=headers),
        await both.get(customer_url(client_id, "c1"), headers=headers),
        await both.post(
            f"/customer/v1/clients/{client_id}/customers/search", json=search, headers=headers
        ),
        await both.post(f"/customer/v1/clients/{client_id}/lookup/customer", json=lookup),
    ]

    for response in responses[:3]:
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/host-not-allowed"
        assert [p["name"] for p in response.json()["invalidParameters"]] == ["Host"]
    assert (await both.get(customer_url(client_id, "c1"))).status_code == 404


async def test_an_allowed_host_is_echoed_whatever_its_port_and_case(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI
) -> None:
    configure(app, allowed_hosts=Settings.model_fields["allowed_hosts"].default)

    response = await horizon.put(
        customer_url(client_id, "c1"), json=person(), headers={"Host": "LocalHost:8443"}
    )

    assert response.status_code == 200
    href = response.json()["_links"][0]["href"]
    assert href == f"https://LocalHost:8443/customer/v1/clients/{client_id}/customers/c1"


@pytest.mark.parametrize(
    ("host", "status"),
    [("api.example.com", 200), ("a.b.example.com", 200), ("example.com", 400),
     ("example.com.evil.net", 400), ("evilexample.com", 400)],
)  # fmt: skip
async def test_a_wildcard_allows_the_names_below_it(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI, host: str, status: int
) -> None:
    configure(app, allowed_hosts=("*.example.com",))

    response = await horizon.put(
        customer_url(client_id, "c1"), json=person(), headers={"Host": host}
    )

    assert response.status_code == status


async def test_the_public_url_wins_over_any_host(
    horizon: httpx.AsyncClient, client_id: int, app: FastAPI
) -> None:
    configure(app, public_url="https://api.example.com")

    response = await horizon.put(customer_url(client_id, "c1"), json=person(), headers=EVIL)

    assert response.status_code == 200
    assert response.json()["_links"][0]["href"].startswith("https://api.example.com/customer/")


async def test_answers_without_links_ignore_the_host(
    both: httpx.AsyncClient, client_id: int
) -> None:
    # Load balancers probe and scrape by address; Subscriptions answers carry no URL.
    assert (await both.post(CUSTOMERS, json=seed_post(), headers=EVIL)).status_code == 200
    assert (await both.get("/healthz", headers=EVIL)).status_code == 200
    assert (await both.get("/readyz", headers=EVIL)).status_code == 200


async def test_a_redirect_never_points_at_a_host_not_allowed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    refused = await client.get("/healthz/?a=1", headers=EVIL)
    allowed = await client.get("/healthz/?a=1")
    configure(app, public_url="https://api.example.com/")
    public = await client.get("/healthz/", headers=EVIL)

    assert refused.status_code == 400
    assert refused.json()["type"] == "/problems/host-not-allowed"
    assert allowed.status_code == 307
    assert allowed.headers["location"] == "https://registry.test/healthz?a=1"
    assert public.headers["location"] == "https://api.example.com/healthz"


def test_allowed_hosts_are_read_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CUSTOMER_REGISTRY_ALLOWED_HOSTS", "api.example.com, [::1],Registry.Example."
    )

    assert Settings().allowed_hosts == ("api.example.com", "::1", "registry.example")

import json
from typing import Any

import httpx
import pytest
from stdnum import luhn

from tests.conftest import BASE_URL, DATA, load
from tests.horizon.conftest import customer_url, person, put


def ordered_keys(response: httpx.Response) -> list[str]:
    return list(json.loads(response.text, object_pairs_hook=lambda pairs: dict(pairs)).keys())


async def test_seed_put_returns_the_documented_representation(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    raw = (DATA / "horizon_put_request.json").read_bytes()
    response = await horizon.put(
        customer_url(client_id, "customer-person-1"),
        content=raw,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    expected = load("horizon_put_response.json")
    documented_base = "https://api.horizonafs.io/customer/v1/client/1234/"
    for link in expected["_links"]:
        link["href"] = link["href"].replace(
            documented_base, f"{BASE_URL}/customer/v1/clients/{client_id}/"
        )
    expected["address"] = load("horizon_put_request.json")["address"]
    expected["paymentMeans"]["paymentId"] = response.json()["paymentMeans"]["paymentId"]
    assert response.json() == expected
    assert ordered_keys(response) == list(expected)


async def test_links_use_the_public_url_when_configured(
    horizon: httpx.AsyncClient, client_id: int, app: Any
) -> None:
    app.state.runtime.settings = app.state.runtime.settings.model_copy(
        update={"public_url": "https://api.horizonafs.io/"}
    )
    response = await put(horizon, client_id, "customer-person-1", person())

    hrefs = [link["href"] for link in response.json()["_links"]]
    base = f"https://api.horizonafs.io/customer/v1/clients/{client_id}/customers"
    assert hrefs[0] == f"{base}/customer-person-1"
    assert hrefs[3] == base + (
        "/search?page={Page}&perPage={PerPage}&sort={byFieldName}&order={ASC/DESC}"
    )


async def test_payment_id_is_numeric_luhn_valid_and_unique(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    ids = set()
    for number in ("a", "b", "c"):
        response = await put(horizon, client_id, number, person())
        ids.add(response.json()["paymentMeans"]["paymentId"])

    assert len(ids) == 3
    assert all(payment_id.isdigit() and luhn.is_valid(payment_id) for payment_id in ids)


async def test_put_existing_customer_keeps_payment_id_and_replaces_data(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    first = await put(horizon, client_id, "c1", person())
    changed = person(email="new@mail.com", phoneNumber=None)
    second = await put(horizon, client_id, "c1", changed)

    assert second.status_code == 200
    assert second.json()["paymentMeans"] == first.json()["paymentMeans"]
    assert second.json()["email"] == "new@mail.com"
    assert "phoneNumber" not in second.json()


async def test_secret_and_risk_fields_are_stored_but_never_returned(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person(existingCustomer=True, individualRiskScore=7)
    response = await put(horizon, client_id, "c1", body)
    fetched = await horizon.get(customer_url(client_id, "c1"))

    for representation in (response.text, fetched.text):
        assert "02016126007" not in representation
        assert "existingCustomer" not in representation
        assert "individualRiskScore" not in representation


async def test_company_is_returned_with_company_and_without_person(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person(type="Company", company={"name": "Acme AS", "organizationNumber": "123456785"})
    del body["person"]
    response = await put(horizon, client_id, "acme", body)

    assert response.status_code == 200, response.text
    assert response.json()["company"] == {"name": "Acme AS", "organizationNumber": "123456785"}
    assert "person" not in response.json()
    assert response.json()["type"] == "Company"


@pytest.mark.parametrize("given", [1, "person", "PERSON"])
async def test_type_accepts_the_documented_number_and_any_case(
    horizon: httpx.AsyncClient, client_id: int, given: Any
) -> None:
    response = await put(horizon, client_id, "c1", person(type=given))

    assert response.status_code == 200
    assert response.json()["type"] == "Person"


async def test_country_code_is_normalised_to_upper_case(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person()
    body["address"]["countryCode"] = "no"
    response = await put(horizon, client_id, "c1", body)

    assert response.json()["address"]["countryCode"] == "NO"


async def test_optional_address_lines_are_returned_when_given(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person()
    body["address"].update(addressLine2="Apartment 4", addressLine3="Back house")
    response = await put(horizon, client_id, "c1", body)

    assert list(response.json()["address"]) == [
        "addressLine", "addressLine2", "addressLine3", "postalCode", "postalPlace", "countryCode",
    ]  # fmt: skip


async def test_customer_number_with_reserved_characters_round_trips(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await put(horizon, client_id, "a b%2Bc", person())
    self_href = response.json()["_links"][0]["href"]

    assert response.json()["customerNumber"] == "a b+c"
    assert self_href.endswith("/customers/a%20b%2Bc")
    assert (await horizon.get(self_href)).status_code == 200

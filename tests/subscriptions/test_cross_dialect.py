"""One customer, two dialects: what one writes, the other reads and updates."""

import httpx

from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post


async def test_subscriptions_customer_reads_through_horizon(
    both: httpx.AsyncClient, client_id: int
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    response = await both.get(customer_url(client_id, "c1631704458"))

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "Person"
    assert body["person"] == {"firstName": "Ray", "lastName": "Ankunding"}
    assert body["phoneNumber"] == "871.790.7578 x4882"
    assert body["email"] == "Ray_Ankunding43@gmail.com"
    assert body["address"] == {
        "addressLine": "Bergnaum Mountains 1a", "postalCode": "97687-7791",
        "postalPlace": "Schadenville", "countryCode": "DE",
    }  # fmt: skip
    assert "700XXX651" not in response.text


async def test_horizon_customer_reads_through_subscriptions(
    both: httpx.AsyncClient, client_id: int
) -> None:
    body = person()
    body["address"]["addressLine2"] = "c/o Kari"
    await both.put(customer_url(client_id, "customer-person-1"), json=body)
    response = await both.get(f"{CUSTOMERS}/customer-person-1")

    assert response.status_code == 200
    assert response.json() == {
        "customerNumber": "customer-person-1",
        "firstName": "Tom",
        "lastName": "Customer",
        "address": {
            "street": "Customer Street 1", "postalCode": "0002", "postalPlace": "CSTM",
            "countryCode": "NO", "careOf": "c/o Kari",
        },
        "identificationNumber": "02016126007",
        "email": "tom.customer@mail.com",
        "companyName": "",
        "customerCategory": "PERSON",
        "phone": "+4712345678",
    }  # fmt: skip


async def test_horizon_update_keeps_subscriptions_only_fields(
    both: httpx.AsyncClient, client_id: int
) -> None:
    created = await both.post(CUSTOMERS, json=seed_post())
    await both.put(customer_url(client_id, "c1631704458"), json=person())
    fetched = (await both.get(f"{CUSTOMERS}/c1631704458")).json()
    again = await both.put(f"{CUSTOMERS}/c1631704458", json=seed_post())

    assert fetched["birthDate"] == "1984-11-11"
    assert fetched["language"] == "DE"
    assert fetched["salutation"] == "MR"
    assert fetched["taxIdentificationNumber"] == "12345678L"
    assert fetched["mobilePhone"] == "+37258774XXX"
    assert fetched["firstName"] == "Tom"
    assert fetched["address"]["street"] == "Customer Street 1"
    assert again.json() == created.json()


async def test_subscriptions_update_keeps_horizon_only_fields(
    both: httpx.AsyncClient, client_id: int
) -> None:
    body = person(existingCustomer=True)
    body["address"]["addressLine3"] = "Building B"
    created = await both.put(customer_url(client_id, "c1631704458"), json=body)
    await both.post(CUSTOMERS, json=seed_post())
    fetched = await both.get(customer_url(client_id, "c1631704458"))

    assert fetched.json()["paymentMeans"] == created.json()["paymentMeans"]
    assert fetched.json()["address"]["addressLine3"] == "Building B"
    assert fetched.json()["person"] == {"firstName": "Ray", "lastName": "Ankunding"}


async def test_both_dialects_find_the_customer_by_name(
    both: httpx.AsyncClient, client_id: int
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    response = await both.post(
        f"/customer/v1/clients/{client_id}/customers/search",
        json={"searchValue": "ray ank", "searchColumn": "name"},
    )

    assert [item["customerNumber"] for item in response.json()["items"]] == ["c1631704458"]

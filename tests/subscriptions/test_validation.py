from typing import Any

import httpx
import pytest

from tests.subscriptions.conftest import CUSTOMERS, seed_post


def names(response: httpx.Response) -> list[str]:
    return [p["name"] for p in response.json()["invalidParameters"]]


def with_value(path: str, value: Any) -> dict[str, Any]:
    body = seed_post()
    *parents, leaf = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    return body


@pytest.mark.parametrize(
    ("path", "given", "stored"),
    [
        ("customer.salutation", "mrs", "MRS"),
        ("customer.salutation", "Ms", "MS"),
        ("customer.salutation", "MISS", "MISS"),
        ("customer.customerCategory", "person", "PERSON"),
        ("customer.language", "De", "DE"),
        ("customer.language", "nb", "NB"),
        ("customer.birthDate", "1980-09-01T00:00:00Z", "1980-09-01"),
        ("customer.birthDate", "1980-09-01T13:45:00+02:00", "1980-09-01"),
        ("customer.address.countryCode", "de", "DE"),
    ],
)
async def test_values_are_accepted_in_any_case_and_returned_normalised(
    subscriptions: httpx.AsyncClient, path: str, given: str, stored: str
) -> None:
    response = await subscriptions.post(CUSTOMERS, json=with_value(path, given))
    fetched = (await subscriptions.get(f"{CUSTOMERS}/c1631704458")).json()

    assert response.status_code == 200, response.text
    *parents, leaf = path.split(".")[1:]
    for parent in parents:
        fetched = fetched[parent]
    assert fetched[leaf] == stored


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("customer.customerCategory", "categoryABC"),
        ("customer.salutation", "DR"),
        ("customer.language", "xx"),
        ("customer.language", "deu"),
        ("customer.address.countryCode", "XX"),
        ("customer.birthDate", "11.11.1984"),
        ("customer.birthDate", "1984-02-30"),
        ("customer.birthDate", "2999-01-01"),
        # Were taken as Unix times (1970-01-01 and 1970-01-02).
        ("customer.birthDate", 0),
        ("customer.birthDate", "86400"),
        ("customer.email", "Ray_Ankunding43"),
        ("customer.email", "x" * 230 + "@example.com"),
        ("customer.firstName", "x" * 41),
        ("customer.lastName", "x" * 41),
        ("customer.companyName", "x" * 141),
        ("customer.address.street", "x" * 61),
        ("customer.address.streetNumber", "x" * 11),
        ("customer.address.streetNumberAdditional", "x" * 11),
        ("customer.address.postalCode", "x" * 11),
        ("customer.address.postalPlace", "x" * 41),
        ("customer.address.careOf", "x" * 41),
        ("customer.phone", "1" * 21),
        ("customer.mobilePhone", "1" * 21),
        ("customer.identificationNumber", "x" * 21),
        ("customer.customerNumber", "x" * 101),
        ("customer.firstName", 42),
        ("paymentRegistration.id", 275122),
    ],
)
async def test_invalid_value_is_a_400_naming_its_json_path(
    subscriptions: httpx.AsyncClient, path: str, value: Any
) -> None:
    response = await subscriptions.post(CUSTOMERS, json=with_value(path, value))

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert names(response) == [path]
    assert (await subscriptions.get(f"{CUSTOMERS}/c1631704458")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "paymentRegistration",
        "paymentRegistration.id",
        "customer.customerNumber",
        "customer.customerCategory",
        "customer.address",
        "customer.address.street",
        "customer.address.postalCode",
        "customer.address.postalPlace",
        "customer.address.countryCode",
        "customer.firstName",
        "customer.lastName",
    ],
)
async def test_missing_required_member_is_customer_information_missing(
    subscriptions: httpx.AsyncClient, path: str
) -> None:
    body = seed_post()
    *parents, leaf = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    del target[leaf]
    response = await subscriptions.post(CUSTOMERS, json=body)

    assert response.status_code == 400
    assert response.json()["title"] == "Customer Information Missing"
    assert names(response) == [path]


async def test_company_without_company_name_is_customer_information_missing(
    subscriptions: httpx.AsyncClient,
) -> None:
    response = await subscriptions.post(CUSTOMERS, json=seed_post(customerCategory="COMPANY"))

    assert response.status_code == 400
    assert names(response) == ["customer.companyName"]


async def test_free_format_seed_values_are_kept_as_given(
    subscriptions: httpx.AsyncClient,
) -> None:
    await subscriptions.post(CUSTOMERS, json=seed_post())
    fetched = (await subscriptions.get(f"{CUSTOMERS}/c1631704458")).json()

    assert fetched["phone"] == "871.790.7578 x4882"
    assert fetched["mobilePhone"] == "+37258774XXX"
    assert fetched["identificationNumber"] == "700XXX651"
    assert fetched["address"]["postalCode"] == "97687-7791"


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"customer": null}', b"\x00"])
async def test_malformed_body_is_a_400_problem(
    subscriptions: httpx.AsyncClient, raw: bytes
) -> None:
    response = await subscriptions.post(
        CUSTOMERS, content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"

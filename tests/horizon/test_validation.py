import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.horizon.conftest import customer_url, person, put


def names(response: httpx.Response) -> list[str]:
    return [p["name"] for p in response.json()["invalidParameters"]]


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, leaf = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    del target[leaf]
    return body


@pytest.mark.parametrize(
    "missing",
    [
        "type",
        "address",
        "address.addressLine",
        "address.postalCode",
        "address.postalPlace",
        "address.countryCode",
        "person.firstName",
        "person.lastName",
    ],
)
async def test_missing_required_member_is_customer_information_missing(
    horizon: httpx.AsyncClient, client_id: int, missing: str
) -> None:
    response = await put(horizon, client_id, "c1", without(person(), missing))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Customer Information Missing"
    assert problem["category"] == "BUSINESS_ERROR"
    assert problem["status"] == 400
    assert names(response) == [missing]
    assert (await horizon.get(customer_url(client_id, "c1"))).status_code == 404


async def test_company_without_name_is_customer_information_missing(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = without(person(type="Company"), "person")
    response = await put(horizon, client_id, "c1", body)

    assert response.json()["title"] == "Customer Information Missing"
    assert names(response) == ["company.name"]


async def test_missing_body_is_customer_information_missing(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await horizon.put(customer_url(client_id, "c1"))

    assert response.status_code == 400
    assert response.json()["title"] == "Customer Information Missing"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("type", "Undefined"),
        ("type", 3),
        ("type", True),
        # Were 500s: an object or array as the type could not be looked up, and the risk
        # score skipped the check every other string gets.
        ("type", {}),
        ("type", []),
        ("individualRiskScore", "high\u0000"),
        ("individualRiskScore", "\ud800"),
        ("address.countryCode", "XX"),
        ("address.countryCode", "NOR"),
        ("email", "not-an-email"),
        ("existingCustomer", "yes"),
        ("individualRiskScore", ["high"]),
        ("person.firstName", "x" * 51),
        ("person.ssn", "02016126008"),
        ("phoneNumber", 4712345678),
        ("address.postalCode", "0" * 11),
        ("address.addressLine", "line\u0000one"),
        ("address.postalPlace", "\ud800"),
    ],
)
async def test_invalid_value_is_rejected_with_its_json_path(
    horizon: httpx.AsyncClient, client_id: int, path: str, value: Any
) -> None:
    body = person()
    *parents, leaf = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    response = await horizon.put(
        customer_url(client_id, "c1"),
        content=json.dumps(body),  # ASCII escapes carry the lone surrogate
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["title"] == "Request did not validate"
    assert names(response) == [path]
    assert (await horizon.get(customer_url(client_id, "c1"))).status_code == 404


async def test_every_invalid_field_is_named(horizon: httpx.AsyncClient, client_id: int) -> None:
    body = person(email="nope", type="Alien")
    body["address"]["countryCode"] = "ZZ"
    response = await put(horizon, client_id, "c1", body)

    assert sorted(names(response)) == ["address.countryCode", "email", "type"]


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b'{"type": "Person",}', b"\xff\xfe"])
async def test_malformed_json_is_a_400_problem(
    horizon: httpx.AsyncClient, client_id: int, raw: bytes
) -> None:
    response = await horizon.put(
        customer_url(client_id, "c1"), content=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_over_long_customer_number_is_rejected(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await put(horizon, client_id, "n" * 101, person())

    assert response.status_code == 400
    assert names(response) == ["customerNumber"]


@pytest.mark.parametrize("raw_id", ["abc", "0", "-1", str(2**64)])
async def test_invalid_client_id_is_a_400(horizon: httpx.AsyncClient, raw_id: str) -> None:
    response = await horizon.put(f"/customer/v1/clients/{raw_id}/customers/c1", json=person())

    assert response.status_code == 400
    assert names(response) == ["clientId"]


async def test_invalid_write_leaves_the_stored_customer_unchanged(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    stored = await put(horizon, client_id, "c1", person())
    await put(horizon, client_id, "c1", person(email="broken"))

    assert (await horizon.get(customer_url(client_id, "c1"))).json() == stored.json()


async def test_body_over_the_limit_is_413_and_stores_nothing(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person(email="x@y.no", padding="p" * 2_000_000)
    response = await put(horizon, client_id, "c1", body)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert (await horizon.get(customer_url(client_id, "c1"))).status_code == 404


async def test_chunked_body_over_the_limit_is_413(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "Person", "padding": "'
        for _ in range(40):
            yield b"p" * 65536
        yield b'"}'

    response = await horizon.put(
        customer_url(client_id, "c1"),
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413

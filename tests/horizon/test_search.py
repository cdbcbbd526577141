from typing import Any

import httpx
import pytest

from tests.horizon.conftest import person, put


def search_url(client_id: int, query: str = "") -> str:
    return f"/customer/v1/clients/{client_id}/customers/search{query}"


async def search(
    http: httpx.AsyncClient, client_id: int, column: str, value: str, query: str = ""
) -> httpx.Response:
    body = {"searchValue": value, "searchColumn": column}
    return await http.post(search_url(client_id, query), json=body)


def numbers(response: httpx.Response) -> list[str]:
    return [item["customerNumber"] for item in response.json()["items"]]


async def store_people(http: httpx.AsyncClient, client_id: int) -> None:
    people: list[tuple[str, str, str, str]] = [
        ("c1", "Tom", "Customer", "02016126007"),
        ("c2", "Tomas", "Berg", "15076500565"),
        ("c3", "Åse", "Tomter", "01010110013"),
        ("c4", "Kari", "Nordmann", "12038410081"),
    ]
    for number, first, last, ssn in people:
        body = person(person={"firstName": first, "lastName": last, "ssn": ssn})
        assert (await put(http, client_id, number, body)).status_code == 200


async def test_search_by_customer_number_finds_exactly_that_customer(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await store_people(horizon, client_id)
    response = await search(horizon, client_id, "customerNumber", "c2")

    assert response.status_code == 200
    assert numbers(response) == ["c2"]
    assert response.json()["total"] == 1
    assert list(response.json()["items"][0]) == [
        "_links", "customerNumber", "type", "person", "phoneNumber", "email",
        "paymentMeans", "address",
    ]  # fmt: skip


async def test_search_by_ssn_finds_the_customer_without_returning_the_ssn(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await store_people(horizon, client_id)
    response = await search(horizon, client_id, "ssn", "15076500565")

    assert numbers(response) == ["c2"]
    assert "15076500565" not in response.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tom", ["c3", "c2", "c1"]),
        ("TOMAS", ["c2"]),
        ("tom cust", ["c1"]),
        ("åse", ["c3"]),
        ("nord", ["c4"]),
        ("zzz", []),
    ],
)
async def test_search_by_name_matches_prefixes_case_insensitively(
    horizon: httpx.AsyncClient, client_id: int, value: str, expected: list[str]
) -> None:
    await store_people(horizon, client_id)
    response = await search(horizon, client_id, "name", value)

    assert numbers(response) == expected
    assert response.json()["total"] == len(expected)


async def test_search_by_organization_number_finds_the_company(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    body = person(type="Company", company={"name": "Acme AS", "organizationNumber": "123456785"})
    await put(horizon, client_id, "acme", body)
    response = await search(horizon, client_id, "organizationNumber", "123456785")

    assert numbers(response) == ["acme"]


async def test_search_by_client_id_lists_all_customers(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    await store_people(horizon, client_id)

    assert numbers(await search(horizon, client_id, "clientId", str(client_id))) == [
        "c4", "c3", "c2", "c1",
    ]  # fmt: skip
    assert numbers(await search(horizon, client_id, "clientId", "999")) == []


async def test_paging_sorting_and_total(horizon: httpx.AsyncClient, client_id: int) -> None:
    await store_people(horizon, client_id)
    query = "?page=2&perPage=3&sort=customerNumber&order=ASC"
    response = await search(horizon, client_id, "clientId", str(client_id), query)

    assert numbers(response) == ["c4"]
    assert response.json()["total"] == 4


async def test_sort_by_name(horizon: httpx.AsyncClient, client_id: int) -> None:
    await store_people(horizon, client_id)
    response = await search(horizon, client_id, "clientId", str(client_id), "?sort=name&order=asc")

    assert numbers(response) == ["c4", "c1", "c2", "c3"]


async def test_nothing_found_is_200_with_empty_items(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await search(horizon, client_id, "customerNumber", "nobody")

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("?page=0", "page"),
        ("?page=-1", "page"),
        ("?page=99999999999999999999", "page"),
        ("?perPage=0", "perPage"),
        ("?perPage=1001", "perPage"),
        ("?perPage=x", "perPage"),
        ("?sort=email", "sort"),
        ("?order=up", "order"),
    ],
)
async def test_out_of_range_paging_is_a_400(
    horizon: httpx.AsyncClient, client_id: int, query: str, name: str
) -> None:
    response = await search(horizon, client_id, "customerNumber", "c1", query)

    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalidParameters"]] == [name]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"searchValue": "x", "searchColumn": "email"}, "searchColumn"),
        ({"searchColumn": "name"}, "searchValue"),
        ({"searchValue": 5, "searchColumn": "name"}, "searchValue"),
    ],
)
async def test_invalid_search_body_is_a_400(
    horizon: httpx.AsyncClient, client_id: int, body: dict[str, Any], name: str
) -> None:
    response = await horizon.post(search_url(client_id), json=body)

    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalidParameters"]] == [name]

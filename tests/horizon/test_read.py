import httpx

from tests.horizon.conftest import customer_url, person, put


async def test_get_returns_what_put_returned(horizon: httpx.AsyncClient, client_id: int) -> None:
    stored = await put(horizon, client_id, "c1", person())
    response = await horizon.get(customer_url(client_id, "c1"))

    assert response.status_code == 200
    assert response.text == stored.text


async def test_get_and_search_show_a_companys_organization_number(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    # Reads decrypt only the sealed fields the representation shows: this one must be.
    company = {"name": "Acme AS", "organizationNumber": "123456785"}
    stored = await put(horizon, client_id, "c1", person(type="Company", company=company))
    response = await horizon.get(customer_url(client_id, "c1"))
    found = await horizon.post(
        f"/customer/v1/clients/{client_id}/customers/search",
        json={"searchColumn": "organizationNumber", "searchValue": "123456785"},
    )

    assert response.text == stored.text
    assert found.json()["items"] == [stored.json()]


async def test_get_unknown_customer_is_a_404_problem(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await horizon.get(customer_url(client_id, "nobody"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["category"] == "BUSINESS_ERROR"


async def test_head_existing_customer_is_200_without_body(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    stored = await put(horizon, client_id, "c1", person())
    response = await horizon.head(customer_url(client_id, "c1"))

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(stored.content))
    assert response.headers["content-type"] == "application/json"


async def test_head_unknown_customer_is_404_without_body(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await horizon.head(customer_url(client_id, "nobody"))

    assert response.status_code == 404
    assert response.content == b""


async def test_other_methods_are_405_problems(horizon: httpx.AsyncClient, client_id: int) -> None:
    for method, path in [
        ("DELETE", customer_url(client_id, "c1")),
        ("PATCH", customer_url(client_id, "c1")),
        ("POST", customer_url(client_id, "c1")),
        ("GET", f"/customer/v1/clients/{client_id}/lookup/customer"),
    ]:
        response = await horizon.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert "Allow" in response.headers


async def test_delete_lists_the_allowed_methods(horizon: httpx.AsyncClient, client_id: int) -> None:
    response = await horizon.delete(customer_url(client_id, "c1"))

    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "PUT"}

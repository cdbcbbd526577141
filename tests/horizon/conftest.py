from typing import Any

import httpx
import pytest

from tests.conftest import load


def customer_url(client_id: int, customer_number: str) -> str:
    return f"/customer/v1/clients/{client_id}/customers/{customer_number}"


def person(number: str = "customer-person-1", **changes: Any) -> dict[str, Any]:
    """The seed's PUT body, with top-level members replaced."""
    body: dict[str, Any] = load("horizon_put_request.json")
    body.update(changes)
    return body


async def put(
    http: httpx.AsyncClient, client_id: int, number: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.put(customer_url(client_id, number), json=body)


@pytest.fixture
def seed_request() -> dict[str, Any]:
    return person()

from typing import Any

import httpx
import pytest

from tests.horizon.conftest import customer_url, person

# Values written by the tests that a dump, an export or an erasure must account for.
PERSON = person(
    person={"ssn": "02016126007", "firstName": "Gudrun", "lastName": "Vesterheim"},
    phoneNumber="+4791234567",
    email="gudrun.vesterheim@example.org",
    address={
        "addressLine": "Fjellveien 77",
        "postalCode": "0452",
        "postalPlace": "Oslo",
        "countryCode": "NO",
    },
)
UPDATED = {**PERSON, "email": "g.vesterheim@example.net"}
WRITTEN = [
    "02016126007",
    "Gudrun",
    "Vesterheim",
    "+4791234567",
    "gudrun.vesterheim@example.org",
    "g.vesterheim@example.net",
    "Fjellveien",
]


def personal_data_url(client_id: int, number: str) -> str:
    return f"/registry/v1/clients/{client_id}/customers/{number}/personal-data"


def erase_url(client_id: int, number: str) -> str:
    return f"/registry/v1/clients/{client_id}/customers/{number}"


async def write_twice(http: httpx.AsyncClient, client_id: int, number: str) -> None:
    """Create the customer, then change their e-mail address: history holds both."""
    for body in (PERSON, UPDATED):
        response = await http.put(customer_url(client_id, number), json=body)
        assert response.status_code in (200, 201), response.text


def json_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def exported_customer(horizon: httpx.AsyncClient, client_id: int) -> tuple[int, Any]:
    """A customer written twice, and its export through the API."""
    await write_twice(horizon, client_id, "p1")
    return client_id, json_of(await horizon.get(personal_data_url(client_id, "p1")))

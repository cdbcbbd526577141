import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.horizon.conftest import customer_url, person, put


def lookup_url(client_id: int) -> str:
    return f"/customer/v1/clients/{client_id}/lookup/customer"


@pytest.fixture
def directory(tmp_path: Path, app: FastAPI) -> Path:
    path = tmp_path / "people.jsonl"
    entry = person(
        person={"ssn": "15076500565", "firstName": "Nora", "lastName": "Berg"},
        phoneNumber="+47 98 76 54 32",
    )
    path.write_text("\n".join(["not json", json.dumps(entry), ""]), encoding="utf-8")
    app.state.runtime.settings = app.state.runtime.settings.model_copy(
        update={"person_directory": path}
    )
    return path


@pytest.mark.parametrize(
    "body",
    [
        {"lookupField": "PhoneNumber", "lookupValue": "+47 123 45 678"},
        {"lookup": {"type": "PhoneNumber", "value": "+47-12-34-56-78"}},
        {"lookupField": "IdentificationNumber", "lookupValue": "02016126007"},
    ],
)
async def test_lookup_finds_a_stored_customer(
    horizon: httpx.AsyncClient, client_id: int, body: dict[str, Any]
) -> None:
    await put(horizon, client_id, "c1", person())
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 200, response.text
    assert response.json()["customerNumber"] == "c1"


async def test_lookup_creates_the_customer_from_the_directory(
    horizon: httpx.AsyncClient, client_id: int, directory: Path
) -> None:
    body = {
        "customerNumber": "TestCustomer67860",
        "individualRiskScore": 0,
        "lookup": {"type": "PhoneNumber", "value": "+4798765432"},
    }
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 201, response.text
    assert response.json()["customerNumber"] == "TestCustomer67860"
    assert response.json()["person"] == {"firstName": "Nora", "lastName": "Berg"}
    stored = await horizon.get(customer_url(client_id, "TestCustomer67860"))
    assert stored.json() == response.json()


async def test_lookup_generates_a_customer_number_when_none_is_given(
    horizon: httpx.AsyncClient, client_id: int, directory: Path
) -> None:
    body = {"lookupField": "IdentificationNumber", "lookupValue": "15076500565"}
    created = await horizon.post(lookup_url(client_id), json=body)
    again = await horizon.post(lookup_url(client_id), json=body)

    assert created.status_code == 201
    assert again.status_code == 200
    assert again.json()["customerNumber"] == created.json()["customerNumber"]


async def test_lookup_never_overwrites_another_customer(
    horizon: httpx.AsyncClient, client_id: int, directory: Path
) -> None:
    await put(horizon, client_id, "taken", person(phoneNumber="+4711111111"))
    body = {"customerNumber": "taken", "lookup": {"type": "PhoneNumber", "value": "+4798765432"}}
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 409
    assert (await horizon.get(customer_url(client_id, "taken"))).json()["person"]["firstName"] == (
        "Tom"
    )


async def test_lookup_without_a_match_is_404(
    horizon: httpx.AsyncClient, client_id: int, directory: Path
) -> None:
    body = {"lookupField": "PhoneNumber", "lookupValue": "+4700000000"}
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("breakage", ["removed", "not UTF-8"])
async def test_a_directory_that_became_unreadable_is_a_503_technical_error(
    horizon: httpx.AsyncClient, client_id: int, directory: Path, breakage: str
) -> None:
    if breakage == "removed":
        directory.unlink()
    else:
        directory.write_bytes('{"person": {"firstName": "Søren"}}\n'.encode("latin-1"))
    body = {"lookupField": "PhoneNumber", "lookupValue": "+4700000000"}
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 503
    assert response.json()["type"] == "/problems/person-directory-unreadable"
    assert response.json()["category"] == "TECHNICAL_ERROR"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lookupField": "Email", "lookupValue": "a@b.no"},
        {"lookup": {"type": "PhoneNumber"}},
        {"lookupField": "PhoneNumber", "lookupValue": ""},
    ],
)
async def test_invalid_lookup_request_is_a_400(
    horizon: httpx.AsyncClient, client_id: int, body: dict[str, Any]
) -> None:
    response = await horizon.post(lookup_url(client_id), json=body)

    assert response.status_code == 400
    assert response.json()["invalidParameters"]

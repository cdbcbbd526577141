"""Strict inputs: one spelling per resource, and no text that shows nothing where text is
required. Requests without an idempotency key go to the plain routes, which must hand a
refused request to their FastAPI twins; with one, they go to the twins directly."""

import copy
import json
import secrets
from typing import Any

import httpx
import pytest

from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post

BLANKS = ["   ", "\u200b", "\u202e\u200f", "\u2028", "\u00a0\u3000\ufeff"]
TWIN = {"Idempotency-Key": "strict-inputs"}


def names(response: httpx.Response) -> list[str]:
    return [p["name"] for p in response.json()["invalidParameters"]]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the member at ``path`` set to ``value``."""
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target = body
    for parent in parents:
        target = target.setdefault(parent, {})
    target[leaf] = value
    return body


def _spellings(client_id: int) -> list[str]:
    digits = str(client_id)
    return [f"0{digits}", f"+{digits}", f"%20{digits}", f"{digits}.0", f"{digits[0]}_{digits[1:]}"]


@pytest.fixture
def client_id() -> int:
    # At least two digits, so that "1_0" can be spelt.
    return 10_000 + secrets.randbelow(2**31 - 10_001)


async def test_other_spellings_of_a_client_id_are_400(
    both: httpx.AsyncClient, client_id: int
) -> None:
    assert (await both.put(customer_url(client_id, "c1"), json=person())).status_code == 200

    for spelling in _spellings(client_id):
        for method, path, body in [
            ("GET", f"/customer/v1/clients/{spelling}/customers/c1", None),
            ("HEAD", f"/customer/v1/clients/{spelling}/customers/c1", None),
            ("PUT", f"/customer/v1/clients/{spelling}/customers/c1", person()),
            ("POST", f"/customer/v1/clients/{spelling}/customers/search",
             {"searchValue": "c1", "searchColumn": "customerNumber"}),
            ("POST", f"/customer/v1/clients/{spelling}/lookup/customer",
             {"lookupField": "PhoneNumber", "lookupValue": "+4712345678"}),
            ("GET", f"/registry/v1/clients/{spelling}/customers/c1/history", None),
        ]:  # fmt: skip
            response = await both.request(method, path, json=body)
            assert response.status_code == 400, (method, path)
            if method != "HEAD":
                assert response.headers["content-type"] == "application/problem+json"
                assert names(response) == ["clientId"], (method, path)


async def test_a_path_that_is_not_utf8_is_400_in_both_dialects(
    both: httpx.AsyncClient, client_id: int
) -> None:
    # U+FFFD, what Starlette makes of every undecodable escape.
    replacement = "%EF%BF%BD"
    assert (await both.put(customer_url(client_id, replacement), json=person())).status_code == 200
    created = await both.post(CUSTOMERS, json=seed_post(customerNumber="\ufffd"))
    assert created.status_code == 200

    for escape in ("%FF", "%FE", "%C0", "a%ED%A0%80"):
        for response in [
            await both.get(customer_url(client_id, escape)),
            await both.put(customer_url(client_id, escape), json=person()),
            await both.put(customer_url(client_id, escape), json=person(), headers=TWIN),
            await both.get(f"{CUSTOMERS}/{escape}"),
            await both.put(f"{CUSTOMERS}/{escape}", json=seed_post(customerNumber="\ufffd")),
        ]:
            assert response.status_code == 400, (escape, response.request.url)
            assert names(response) == ["path"]
    assert (await both.get(customer_url(client_id, replacement))).status_code == 200


HORIZON_TEXT = [
    "person.firstName", "person.lastName", "company.name", "phoneNumber",
    "address.addressLine", "address.addressLine2", "address.addressLine3",
    "address.postalCode", "address.postalPlace",
]  # fmt: skip


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("field", HORIZON_TEXT)
@pytest.mark.parametrize("headers", [{}, TWIN], ids=["plain", "twin"])
async def test_horizon_text_that_shows_nothing_is_400(
    horizon: httpx.AsyncClient, client_id: int, field: str, blank: str, headers: dict[str, str]
) -> None:
    body = _set(person(), field, blank)
    response = await horizon.put(customer_url(client_id, "c1"), json=body, headers=headers)

    assert response.status_code == 400
    assert names(response) == [field]
    assert (await horizon.get(customer_url(client_id, "c1"))).status_code == 404


SUBSCRIPTIONS_TEXT = [
    "customer.firstName", "customer.lastName", "customer.companyName", "customer.phone",
    "customer.mobilePhone", "customer.address.street", "customer.address.careOf",
    "customer.address.postalCode", "customer.address.postalPlace",
]  # fmt: skip


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("field", SUBSCRIPTIONS_TEXT)
@pytest.mark.parametrize("headers", [{}, TWIN], ids=["plain", "twin"])
async def test_subscriptions_text_that_shows_nothing_is_400(
    both: httpx.AsyncClient, client_id: int, field: str, blank: str, headers: dict[str, str]
) -> None:
    body = _set(seed_post(), field, blank)
    response = await both.post(CUSTOMERS, json=body, headers=headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert names(response) == [field]
    number = body["customer"]["customerNumber"]
    assert (await both.get(f"{CUSTOMERS}/{number}")).status_code == 404


async def test_empty_optional_members_still_mean_absent(
    both: httpx.AsyncClient, client_id: int
) -> None:
    body = seed_post(companyName="", phone="", mobilePhone="")
    body["customer"]["address"]["careOf"] = ""

    assert (await both.post(CUSTOMERS, json=body)).status_code == 200


@pytest.mark.parametrize("number", [" c1", "c1 ", "c1\u200b", "\u2060c1", "\u00a0", "c1\u2028"])
async def test_a_customer_number_with_invisible_ends_is_400(
    both: httpx.AsyncClient, client_id: int, number: str
) -> None:
    escaped = httpx.URL(customer_url(client_id, number)).raw_path.decode()
    responses = {
        "horizon PUT": await both.put(escaped, json=person()),
        "horizon PUT twin": await both.put(escaped, json=person(), headers=TWIN),
        "horizon GET": await both.get(escaped),
        "lookup": await both.post(
            f"/customer/v1/clients/{client_id}/lookup/customer",
            json={"customerNumber": number, "lookupField": "PhoneNumber", "lookupValue": "+47"},
        ),
        "subscriptions POST": await both.post(CUSTOMERS, json=seed_post(customerNumber=number)),
        "subscriptions GET": await both.get(f"{CUSTOMERS}/{number}"),
    }

    for name, response in responses.items():
        assert response.status_code == 400, name
        assert names(response)[0] in ("customerNumber", "customer.customerNumber"), name


async def test_inner_spaces_in_a_customer_number_are_kept(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    response = await horizon.put(customer_url(client_id, "a b"), json=person())

    assert response.status_code == 200
    assert response.json()["customerNumber"] == "a b"


def _string_members(body: Any, prefix: str = "") -> list[str]:
    if isinstance(body, dict):
        return [p for k, v in body.items() for p in _string_members(v, f"{prefix}{k}.")]
    return [prefix.rstrip(".")] if isinstance(body, str) else []


def _bodies(client_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    search = {"searchValue": "c1", "searchColumn": "customerNumber"}
    lookup = {"customerNumber": "L1", "lookup": {"type": "PhoneNumber", "value": "+4712345678"}}
    return [
        ("PUT", customer_url(client_id, "c1"), person()),
        ("POST", CUSTOMERS, seed_post()),
        ("POST", f"/customer/v1/clients/{client_id}/customers/search", search),
        ("POST", f"/customer/v1/clients/{client_id}/lookup/customer", lookup),
    ]


@pytest.mark.parametrize("bad", ["a\u0000b", "a\ud800b", "\udfff"], ids=["NUL", "high", "low"])
@pytest.mark.parametrize("headers", [{}, TWIN], ids=["plain", "twin"])
async def test_nul_and_lone_surrogates_in_any_string_member_are_400(
    both: httpx.AsyncClient, client_id: int, bad: str, headers: dict[str, str]
) -> None:
    for method, path, body in _bodies(client_id):
        for member in _string_members(body):
            raw = json.dumps(_set(body, member, bad))  # ASCII escapes carry them
            response = await both.request(
                method, path, content=raw, headers={"Content-Type": "application/json", **headers}
            )
            assert response.status_code == 400, (path, member)
            assert response.headers["content-type"] == "application/problem+json"
            assert member in names(response), (path, member)
    assert (await both.get(customer_url(client_id, "c1"))).status_code == 404

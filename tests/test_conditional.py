"""ETag, If-Match and If-None-Match on both dialects."""

import httpx
import pytest

from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS, seed_post


@pytest.fixture
def url(client_id: int) -> str:
    return customer_url(client_id, "c1631704458")


async def test_every_customer_response_carries_the_version_as_etag(
    both: httpx.AsyncClient, url: str
) -> None:
    put = await both.put(url, json=person())
    get = await both.get(url)
    head = await both.head(url)
    subscriptions_get = await both.get(f"{CUSTOMERS}/c1631704458")

    assert put.headers["ETag"] == '"1"'
    assert get.headers["ETag"] == head.headers["ETag"] == subscriptions_get.headers["ETag"] == '"1"'


async def test_a_write_that_changes_nothing_keeps_the_version(
    both: httpx.AsyncClient, url: str
) -> None:
    await both.put(url, json=person())
    again = await both.put(url, json=person())
    changed = await both.put(url, json=person(email="new@mail.com"))

    assert again.headers["ETag"] == '"1"'
    assert changed.headers["ETag"] == '"2"'


async def test_stale_if_match_is_412_and_changes_nothing(both: httpx.AsyncClient, url: str) -> None:
    await both.put(url, json=person())
    current = await both.put(url, json=person(email="second@mail.com"))

    stale = await both.put(url, json=person(email="lost@mail.com"), headers={"If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await both.get(url)).json() == current.json()


async def test_current_if_match_writes(both: httpx.AsyncClient, url: str) -> None:
    await both.put(url, json=person())
    response = await both.put(
        url, json=person(email="next@mail.com"), headers={"If-Match": 'W/"7", "1"'}
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'


@pytest.mark.parametrize("tag", ['"1"', "*"])
async def test_if_match_on_an_unknown_customer_is_412_and_creates_nothing(
    both: httpx.AsyncClient, url: str, tag: str
) -> None:
    response = await both.put(url, json=person(), headers={"If-Match": tag})

    assert response.status_code == 412
    assert (await both.get(url)).status_code == 404


async def test_if_none_match_star_creates_only(both: httpx.AsyncClient, url: str) -> None:
    created = await both.put(url, json=person(), headers={"If-None-Match": "*"})
    again = await both.put(url, json=person(email="x@y.no"), headers={"If-None-Match": "*"})

    assert created.status_code == 200
    assert again.status_code == 412
    assert (await both.get(url)).json()["email"] == "tom.customer@mail.com"


async def test_get_with_the_current_etag_is_304(both: httpx.AsyncClient, url: str) -> None:
    await both.put(url, json=person())
    unchanged = await both.get(url, headers={"If-None-Match": '"1"'})
    await both.put(url, json=person(email="new@mail.com"))
    changed = await both.get(url, headers={"If-None-Match": '"1"'})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == '"1"'
    assert changed.status_code == 200


async def test_subscriptions_put_honours_if_match(both: httpx.AsyncClient) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    await both.post(CUSTOMERS, json=seed_post(email="second@example.com"))
    url = f"{CUSTOMERS}/c1631704458"

    stale = await both.put(
        url, json=seed_post(email="lost@example.com"), headers={"If-Match": '"1"'}
    )
    current = await both.put(
        url, json=seed_post(email="third@example.com"), headers={"If-Match": '"2"'}
    )

    assert stale.status_code == 412
    assert current.status_code == 200
    assert current.headers["ETag"] == '"3"'
    assert (await both.get(url, headers={"If-None-Match": '"3"'})).status_code == 304


async def test_a_write_through_either_dialect_moves_the_etag(
    both: httpx.AsyncClient, url: str
) -> None:
    await both.post(CUSTOMERS, json=seed_post())
    await both.put(url, json=person())

    assert (await both.get(f"{CUSTOMERS}/c1631704458")).headers["ETag"] == '"2"'

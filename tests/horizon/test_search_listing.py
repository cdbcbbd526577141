"""Listing all of a client's customers: ``total`` comes from counts kept on every insert."""

import asyncio
from pathlib import Path

import httpx

from tests.horizon.conftest import person, put
from tests.horizon.test_search import numbers, search
from tests.subscriptions.conftest import CUSTOMERS, seed_post
from tests.test_bulk import horizon_row, import_file, write_rows


async def listing(http: httpx.AsyncClient, client_id: int, query: str = "") -> httpx.Response:
    response = await search(http, client_id, "clientId", str(client_id), query)
    assert response.status_code == 200
    return response


async def test_total_counts_customers_from_both_dialects_and_imports(
    both: httpx.AsyncClient, client_id: int, env: dict[str, str], tmp_path: Path
) -> None:
    assert (await put(both, client_id, "h1", person())).status_code == 200
    assert (await both.post(CUSTOMERS, json=seed_post(customerNumber="s1"))).status_code == 200
    rows = write_rows(tmp_path / "rows.jsonl", [horizon_row("i1"), horizon_row("i2")])
    assert (await import_file(env, rows, client_id, "--dialect", "horizon"))[0].exit_code == 0
    assert (await put(both, client_id, "h1", person(email="new@example.com"))).status_code == 200

    response = await listing(both, client_id)

    assert response.json()["total"] == 4
    assert sorted(numbers(response)) == ["h1", "i1", "i2", "s1"]


async def test_concurrent_creates_are_all_counted(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    creates = [put(horizon, client_id, f"c{n:02}", person()) for n in range(24)]
    assert {r.status_code for r in await asyncio.gather(*creates)} == {200}

    assert (await listing(horizon, client_id)).json()["total"] == 24


async def test_pages_walk_every_customer_once_and_past_the_end_is_empty(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    for n in range(7):
        assert (await put(horizon, client_id, f"c{n}", person())).status_code == 200

    pages = [await listing(horizon, client_id, f"?page={p}&perPage=3&order=asc") for p in (1, 2, 3)]
    beyond = await listing(horizon, client_id, "?page=4&perPage=3")

    assert [numbers(page) for page in pages] == [["c0", "c1", "c2"], ["c3", "c4", "c5"], ["c6"]]
    assert {page.json()["total"] for page in pages} == {7}
    assert beyond.json() == {"items": [], "total": 7}


async def test_another_clients_listing_is_empty(horizon: httpx.AsyncClient, client_id: int) -> None:
    assert (await put(horizon, client_id, "c1", person())).status_code == 200

    response = await search(horizon, client_id, "clientId", str(client_id + 1))

    assert response.json() == {"items": [], "total": 0}

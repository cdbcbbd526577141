"""The console's pages: clients, search by every column, the card, reveals, the timeline."""

import re
from typing import Any

import httpx
from fastapi import FastAPI

from customer_registry.app import create_app
from customer_registry.config import Settings
from tests.conftest import BASE_URL, create_credential, new_client_id, token_for
from tests.console.conftest import hidden, signed_in, text_of
from tests.horizon.conftest import customer_url, person


async def _horizon(client: httpx.AsyncClient, app: FastAPI, client_id: int) -> dict[str, str]:
    token = await token_for(client, await create_credential(app, client_id))
    return {"Authorization": f"Bearer {token}"}


async def _put(
    client: httpx.AsyncClient, auth: dict[str, str], client_id: int, number: str, **body: Any
) -> None:
    response = await client.put(customer_url(client_id, number), json=person(**body), headers=auth)
    assert response.status_code == 200, response.text


def _numbers(page: str) -> list[str]:
    return re.findall(r'customer\?number=([^"]+)"', page)


async def test_clients_page_shows_only_the_operators_clients_with_counts(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    other = new_client_id()
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    await _put(client, auth, client_id, "c2")
    await create_credential(app, other)
    await signed_in(app, client, [client_id])

    page = await client.get("/console/clients")
    refused = await client.get(f"/console/clients/{other}")

    assert f"Client {client_id} 2" in text_of(page.text)
    assert f"Client {other}" not in text_of(page.text)
    assert refused.status_code == 403
    assert f"not given client {other}" in text_of(refused.text)


async def test_search_finds_by_every_column(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c-tom")
    company = {
        "type": "Company",
        "company": {"name": "Fjord Fisk AS", "organizationNumber": "974760673"},
        "person": None,
        "email": "Post@Fjord.no",
        "phoneNumber": "22 11 22 33",
    }
    await _put(client, auth, client_id, "c-fjord", **company)
    await signed_in(app, client, [client_id])

    async def found(q: str, field: str = "any") -> list[str]:
        page = await client.get(f"/console/clients/{client_id}", params={"q": q, "field": field})
        assert page.status_code == 200, page.text
        return _numbers(page.text)

    assert await found("tom") == ["c-tom"]
    assert await found("CUSTOMER", "name") == ["c-tom"]
    assert await found("fjord f") == ["c-fjord"]
    assert await found("c-fjord") == ["c-fjord"]
    assert await found("02016126007") == ["c-tom"]
    assert await found("02016126007", "organizationNumber") == []
    assert await found("974760673", "organizationNumber") == ["c-fjord"]
    assert await found("+4712345678", "phone") == ["c-tom"]
    assert await found("+4722112233") == ["c-fjord"]
    assert await found("post@fjord.no") == ["c-fjord"]
    assert await found("nobody") == []
    assert await found("") == ["c-fjord", "c-tom"]


async def test_name_search_pages_through_every_match_once_in_order(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    # Same first names, same last names, and a first name that is also a last name: each
    # customer matches "an" through up to three names, and must be listed once.
    names = [("Anna", "Andersen"), ("Anna", "Berg"), ("Ola", "Anker"), ("Anders", "Anna")]
    expected = []
    for i in range(32):
        first, last = names[i % len(names)]
        number = f"n{i:02d}"
        await _put(client, auth, client_id, number, person={"firstName": first, "lastName": last})
        expected.append(number)
    await signed_in(app, client, [client_id])

    seen: list[str] = []
    url: str | None = f"/console/clients/{client_id}?q=an&field=name"
    while url:
        page = await client.get(url)
        seen += _numbers(page.text)
        more = re.search(r'rel="next" href="([^"]+)"', page.text)
        url = more.group(1).replace("&amp;", "&") if more else None

    assert sorted(seen) == expected
    assert len(seen) == len(set(seen))


async def test_the_card_masks_the_national_id_until_revealed_and_records_the_reveal(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    name = await signed_in(app, client, [client_id])

    card = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})
    form = {"number": "c1", "csrf": hidden(card.text, "csrf")}
    revealed = await client.post(f"/console/clients/{client_id}/customer/reveal", data=form)
    again = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})

    assert "02016126007" not in card.text
    assert "*********07" in text_of(card.text)
    assert '"identificationNumber": "*********07"' in card.text.replace("&#34;", '"')
    assert revealed.status_code == 200
    assert "02016126007" in revealed.text
    assert "02016126007" not in again.text
    assert f"{name} Revealed ssn" in text_of(again.text)


async def test_an_export_of_the_customers_personal_data_shows_in_the_timeline(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    url = f"/registry/v1/clients/{client_id}/customers/c1/personal-data"
    assert (await client.get(url, headers=auth)).status_code == 200
    await signed_in(app, client, [client_id])

    card = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})

    assert "Exported all personal data" in text_of(card.text)


async def test_the_card_of_an_erased_customer_says_when_it_was_erased(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    erased = await client.delete(f"/registry/v1/clients/{client_id}/customers/c1", headers=auth)
    assert erased.status_code == 204
    await signed_in(app, client, [client_id])

    card = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})
    never = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c2"})

    assert card.status_code == 404
    assert "Customer erased" in text_of(card.text)
    assert "was erased on" in text_of(card.text)
    assert never.status_code == 404
    assert "Customer not found" in text_of(never.text)


async def test_a_forged_csrf_token_is_refused_and_reveals_nothing(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    await signed_in(app, client, [client_id])

    form = {"number": "c1", "csrf": "0" * 64}
    refused = await client.post(f"/console/clients/{client_id}/customer/reveal", data=form)
    card = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})

    assert refused.status_code == 403
    assert "02016126007" not in refused.text
    assert "Form refused" in text_of(refused.text)
    assert "Revealed" not in text_of(card.text)


async def test_the_card_shows_both_dialects_and_the_timeline_per_field(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    await _put(client, auth, client_id, "c1")
    await _put(client, auth, client_id, "c1", email="new@mail.com")
    await signed_in(app, client, [client_id])

    card = await client.get(f"/console/clients/{client_id}/customer", params={"number": "c1"})
    words = text_of(card.text)

    assert "Horizon GET" in words
    assert "Subscriptions GET" in words
    assert "&#34;paymentMeans&#34;" in card.text
    assert "v2 · Changed through horizon" in words
    assert "email tom.customer@mail.com new@mail.com" in words
    assert words.index("v2 ·") < words.index("v1 ·")


async def test_history_pages_go_back_to_the_first_change(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    auth = await _horizon(client, app, client_id)
    for i in range(55):
        await _put(client, auth, client_id, "c1", email=f"m{i}@mail.com")
    await signed_in(app, client, [client_id])

    url = f"/console/clients/{client_id}/customer/history"
    first = await client.get(url, params={"number": "c1"})
    older = re.search(r'history\?number=c1&amp;through=(\d+)"', first.text)
    assert older is not None
    second = await client.get(url, params={"number": "c1", "through": older.group(1)})

    versions = re.findall(r"v(\d+) ·", first.text) + re.findall(r"v(\d+) ·", second.text)
    assert versions == [str(v) for v in range(55, 0, -1)]


async def test_problems_are_pages_in_words(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    await signed_in(app, client, [client_id])

    missing = await client.get("/console/nothing-here")
    unknown = await client.get(f"/console/clients/{client_id}/customer", params={"number": "x"})
    invalid = await client.get(f"/console/clients/{client_id}", params={"field": "shoe size"})

    for response, status in ((missing, 404), (unknown, 404), (invalid, 400)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
    assert "has no customer 'x'" in text_of(unknown.text)
    assert "field:" in text_of(invalid.text)


async def test_pages_are_not_cached_framed_or_scripted(
    app: FastAPI, client: httpx.AsyncClient, client_id: int
) -> None:
    await signed_in(app, client, [client_id])

    response = await client.get("/console/clients")

    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]
    assert "<script" not in response.text


async def test_the_console_can_be_switched_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"console": False}))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as http:
            response = await http.get("/console/sign-in")
    finally:
        await app.state.runtime.database.close()

    assert response.status_code == 404

"""The console's events page over HTTP: a change made through the Horizon API, its delivery
to a real receiver on 127.0.0.1, replays through the page's forms, and who may send them."""

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from customer_registry.config import Settings
from customer_registry.console import event_pages
from tests.conftest import new_client_id
from tests.console.conftest import hidden, signed_in, text_of
from tests.events.conftest import add_webhook, deliver_until, webhook_settings, webhooks_url
from tests.events.receiver import Received, Receiver
from tests.horizon.conftest import customer_url, person


@pytest.fixture
def settings(database_url: str, key_file: Path) -> Settings:
    # A failed delivery given up (and its endpoint disabled) at once.
    return webhook_settings(database_url, key_file, webhook_retry_for_seconds=0.001)


def _events(client_id: int) -> str:
    return f"/console/clients/{client_id}/events"


async def _put(http: httpx.AsyncClient, client_id: int, number: str, email: str) -> None:
    response = await http.put(customer_url(client_id, number), json=person(email=email))
    assert response.status_code == 200, response.text


async def _replay(
    http: httpx.AsyncClient, client_id: int, page: str, **form: str
) -> httpx.Response:
    """Send the page's first replay form, its values changed by ``form``."""
    values = {name: hidden(page, name) for name in ("csrf", "endpoint")}
    values["position"] = re.findall(r'name="position"[^>]* value="(\d+)"', page)[0]
    return await http.post(f"{_events(client_id)}/replay", data=values | form)


async def _endpoint(http: httpx.AsyncClient, client_id: int) -> dict[str, object]:
    (endpoint,) = (await http.get(webhooks_url(client_id))).json()["items"]
    return dict(endpoint)


async def test_the_page_lists_a_horizon_change_delivered_to_the_receiver(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver() as receiver:
        url = receiver.url
        await add_webhook(horizon, client_id, url)
        await _put(horizon, client_id, "c-42", "a@mail.com")
        await deliver_until(app, lambda: len(receiver.delivered()) == 1)
    await signed_in(app, horizon, [client_id])

    page = await horizon.get(_events(client_id))
    client_page = await horizon.get(f"/console/clients/{client_id}")

    words = text_of(page.text)
    assert page.status_code == 200
    assert f"Endpoint 1: {url} Status Enabled" in words
    assert "#1 customer.created c-42 1" in words
    assert "horizon Delivered" in words
    assert f'href="/console/clients/{client_id}/customer?number=c-42"' in page.text
    assert f'href="/console/clients/{client_id}/events"' in client_page.text


async def test_replay_queues_the_event_again_and_the_receiver_gets_it_again(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver() as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        await _put(horizon, client_id, "c-1", "a@mail.com")
        await deliver_until(app, lambda: len(receiver.delivered()) == 1)
        await signed_in(app, horizon, [client_id])
        replayed = await _replay(horizon, client_id, (await horizon.get(_events(client_id))).text)
        after = await horizon.get(replayed.headers["location"])
        await deliver_until(app, lambda: len(receiver.delivered()) == 2)
        delivered = await horizon.get(_events(client_id))

    assert replayed.status_code == 303
    assert "Replay started" in text_of(after.text)
    assert "Pending: not sent yet" in text_of(after.text)
    assert "Delivered" in text_of(delivered.text)
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]


async def test_a_given_up_delivery_shows_its_error_and_is_replayed_from_its_row(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    answers = [503]

    def answer(_: Received) -> int:
        return answers[-1]

    async with Receiver(answer) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        await _put(horizon, client_id, "c-1", "a@mail.com")
        await deliver_until(app, lambda: len(receiver.received) == 2)
        await signed_in(app, horizon, [client_id])
        failed = await horizon.get(_events(client_id))
        answers.append(204)
        # The row's own form: its hidden position (the endpoint's form has a number field).
        form = {name: hidden(failed.text, name) for name in ("csrf", "endpoint", "position")}
        replayed = await horizon.post(f"{_events(client_id)}/replay", data=form)
        await deliver_until(app, lambda: len(receiver.delivered()) == 1)

    words = text_of(failed.text)
    assert "Status Disabled since" in words
    assert "Failed: given up after 2 attempts; last error: answered 503" in words
    assert "Replay from here" in words
    assert form["position"] == "1"
    assert replayed.status_code == 303
    assert (await _endpoint(horizon, client_id))["status"] == "enabled"


async def test_a_forged_csrf_token_is_refused_and_replays_nothing(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await add_webhook(horizon, client_id, "http://127.0.0.1:9/hook")
    await _put(horizon, client_id, "c-1", "a@mail.com")
    await signed_in(app, horizon, [client_id])
    page = (await horizon.get(_events(client_id))).text
    before = await _endpoint(horizon, client_id)

    refused = await _replay(horizon, client_id, page, csrf="f" + hidden(page, "csrf"))

    assert refused.status_code == 403
    assert "Form refused" in text_of(refused.text)
    assert await _endpoint(horizon, client_id) == before


async def test_an_operator_of_other_clients_is_refused_the_page_and_the_replay(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await add_webhook(horizon, client_id, "http://127.0.0.1:9/hook")
    await _put(horizon, client_id, "c-1", "a@mail.com")
    await signed_in(app, horizon, [client_id])
    page = (await horizon.get(_events(client_id))).text
    await signed_in(app, horizon, [new_client_id()])

    shown = await horizon.get(_events(client_id))
    own = (await horizon.get("/console/clients")).text
    replayed = await _replay(horizon, client_id, page, csrf=hidden(own, "csrf"))

    assert shown.status_code == replayed.status_code == 403
    assert f"not given client {client_id}" in text_of(shown.text)
    assert f"not given client {client_id}" in text_of(replayed.text)


async def test_an_endpoint_of_another_client_or_an_unknown_event_is_not_replayed(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    await add_webhook(horizon, client_id, "http://127.0.0.1:9/hook")
    await _put(horizon, client_id, "c-1", "a@mail.com")
    other = new_client_id()
    await signed_in(app, horizon, [client_id, other])
    page = (await horizon.get(_events(client_id))).text

    elsewhere = await horizon.post(
        f"{_events(other)}/replay",
        data={"csrf": hidden(page, "csrf"), "endpoint": hidden(page, "endpoint"), "position": "1"},
    )
    unknown = await _replay(horizon, client_id, page, position="2")

    assert elsewhere.status_code == 404
    assert "Webhook endpoint not found" in text_of(elsewhere.text)
    assert unknown.status_code == 404
    assert f"client {client_id} has no event #2 yet" in text_of(unknown.text)


async def test_events_come_newest_first_a_page_at_a_time(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_pages, "EVENTS_PAGE", 2)
    for i in range(3):
        await _put(horizon, client_id, "c-1", f"v{i}@mail.com")
    await signed_in(app, horizon, [client_id])

    first = await horizon.get(_events(client_id))
    older = re.search(r'href="([^"]+)">Older events', first.text)
    assert older is not None
    second = await horizon.get(older.group(1).replace("&amp;", "&"))

    assert re.findall(r"<td data-label=\"Event\">#(\d+)", first.text) == ["3", "2"]
    assert re.findall(r"<td data-label=\"Event\">#(\d+)", second.text) == ["1"]
    assert "Older events" not in second.text
    assert "This client has no webhook endpoints" in text_of(first.text)

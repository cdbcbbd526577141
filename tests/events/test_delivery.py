"""Webhook delivery to a real HTTP receiver on 127.0.0.1: signed, retried, in order per
customer, given up and replayed, one deliverer per endpoint."""

import asyncio
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook

from customer_registry.events import delivery, service
from tests.events.conftest import add_webhook, deliver_until, drain, read_all, webhooks_url
from tests.events.receiver import Received, Receiver
from tests.horizon.conftest import customer_url, person


async def _write(http: httpx.AsyncClient, client_id: int, number: str, email: str) -> None:
    response = await http.put(customer_url(client_id, number), json=person(email=email))
    assert response.status_code == 200


def _versions(events: list[dict[str, Any]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for event in events:
        found.setdefault(event["customerNumber"], []).append(event["version"])
    return found


async def _endpoint(http: httpx.AsyncClient, client_id: int) -> dict[str, Any]:
    (endpoint,) = (await http.get(webhooks_url(client_id))).json()["items"]
    found: dict[str, Any] = endpoint
    return found


async def test_deliveries_are_signed_standard_webhooks_carrying_the_feeds_events(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver() as receiver:
        secret = await add_webhook(horizon, client_id, receiver.url)
        await _write(horizon, client_id, "c1", "a@mail.com")
        await _write(horizon, client_id, "c1", "b@mail.com")
        await deliver_until(app, lambda: len(receiver.received) == 2)

    events, _ = await read_all(horizon, client_id)
    verified = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    assert verified == events
    assert [r.headers["webhook-id"] for r in receiver.received] == [e["id"] for e in events]
    assert {r.headers["content-type"] for r in receiver.received} == {"application/json"}


async def test_a_receiver_that_fails_three_times_gets_the_event_on_the_fourth_try(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    def fails_three_times(request: Received) -> int:
        return 503 if len(receiver.received) < 3 else 200

    async with Receiver(fails_three_times) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        await _write(horizon, client_id, "c1", "a@mail.com")
        await deliver_until(app, lambda: len(receiver.received) == 1)
        failing = await _endpoint(horizon, client_id)
        await deliver_until(app, lambda: bool(receiver.delivered()))

    assert [r.status for r in receiver.received] == [503, 503, 503, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert failing["pendingDeliveries"] == 1
    assert failing["failingSince"] is not None
    assert failing["lastError"] == "answered 503"
    healthy = await _endpoint(horizon, client_id)
    assert healthy["pendingDeliveries"] == healthy["failedDeliveries"] == 0
    assert healthy["failingSince"] is None


async def test_a_later_event_of_a_customer_waits_for_the_earlier_one(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    refusals = Counter[str]()

    def refuses_a1_twice(request: Received) -> int:
        event = request.event()
        if event["customerNumber"] == "a" and event["version"] == 1 and refusals["a"] < 2:
            refusals["a"] += 1
            return 400  # this event's problem: the other customers go on meanwhile
        return 200

    async with Receiver(refuses_a1_twice) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        for n in range(3):
            await _write(horizon, client_id, "a", f"a{n}@mail.com")
            await _write(horizon, client_id, "b", f"b{n}@mail.com")
        await deliver_until(app, lambda: len(receiver.delivered()) == 6)

    order = [(e["customerNumber"], e["version"]) for e in receiver.delivered()]
    assert _versions(receiver.delivered()) == {"a": [1, 2, 3], "b": [1, 2, 3]}
    assert order.index(("b", 3)) < order.index(("a", 1))  # b was not held up by a


async def test_a_delivery_failing_for_the_whole_retry_period_is_given_up_and_replayable(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    state = app.state.runtime
    state.settings = state.settings.model_copy(update={"webhook_retry_for_seconds": 0.5})
    healthy = False

    def down_until_told(_: Received) -> int:
        return 200 if healthy else 500

    async with Receiver(down_until_told) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        await _write(horizon, client_id, "c1", "a@mail.com")
        disabled = _once_disabled(horizon, client_id)
        await deliver_until(app, disabled.done)
        given_up = await disabled
        async with app.state.runtime.database.transaction() as conn:
            await service.replay(conn, given_up["id"], None)
        healthy = True
        await deliver_until(app, lambda: bool(receiver.delivered()))

    assert given_up["status"] == "disabled"
    assert given_up["failedDeliveries"] == 1
    assert given_up["pendingDeliveries"] == 0
    assert len(receiver.received) >= 3
    assert {r.status for r in receiver.received[:-1]} == {500}
    assert receiver.delivered()[0]["customerNumber"] == "c1"
    replayed = await _endpoint(horizon, client_id)
    assert replayed["status"] == "enabled"
    assert replayed["failedDeliveries"] == 0


def _once_disabled(http: httpx.AsyncClient, client_id: int) -> "asyncio.Task[dict[str, Any]]":
    async def watch() -> dict[str, Any]:
        while (endpoint := await _endpoint(http, client_id))["status"] != "disabled":
            await asyncio.sleep(0.05)
        return endpoint

    return asyncio.ensure_future(watch())


async def test_only_the_event_types_asked_for_are_sent(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver() as receiver:
        await add_webhook(horizon, client_id, receiver.url, eventTypes=["customer.created"])
        await _write(horizon, client_id, "c1", "a@mail.com")
        await _write(horizon, client_id, "c1", "b@mail.com")
        await _write(horizon, client_id, "c2", "a@mail.com")
        await drain(app)

    assert [(e["customerNumber"], e["type"]) for e in receiver.delivered()] == [
        ("c1", "customer.created"),
        ("c2", "customer.created"),
    ]


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver() as receiver:
        url = receiver.url.replace("http://127.0.0.1", "https://localhost")
        await add_webhook(horizon, client_id, url)
        await _write(horizon, client_id, "c1", "a@mail.com")
        state = app.state.runtime
        strict = state.settings.model_copy(update={"webhook_allow_private": False})
        async with delivery.deliverer(state.database, state.vault, strict) as context:
            await delivery.deliver_due(context)

    endpoint = await _endpoint(horizon, client_id)
    assert receiver.received == []
    assert endpoint["lastError"].startswith("refused: its host resolves to ")
    assert "127.0.0.1" in endpoint["lastError"] or "::1" in endpoint["lastError"]
    assert endpoint["pendingDeliveries"] == 1


async def test_two_deliverers_send_each_event_once(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver(delay=0.01) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        for n in range(30):
            await _write(horizon, client_id, f"c{n % 5}", f"{n}@mail.com")
        state = app.state.runtime
        deliverers = [
            asyncio.ensure_future(
                delivery.deliver_forever(state.database, state.vault, state.settings)
            )
            for _ in range(2)
        ]
        try:
            await receiver.wait_for(lambda: len(receiver.received) >= 30)
            await asyncio.sleep(0.5)  # a second deliverer's duplicates would arrive by now
        finally:
            for task in deliverers:
                task.cancel()
            await asyncio.gather(*deliverers, return_exceptions=True)

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 30
    assert all(v == sorted(v) for v in _versions(receiver.delivered()).values())


async def test_failing_receivers_leave_the_service_ready_and_are_counted(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver(lambda _: 500) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        await _write(horizon, client_id, "c1", "a@mail.com")
        state = app.state.runtime
        async with delivery.deliverer(
            state.database, state.vault, state.settings, state.metrics
        ) as context:
            await delivery.deliver_due(context)

    ready = await horizon.get("/readyz")
    metrics = (await horizon.get("/metrics")).text
    assert ready.status_code == 200
    assert len(receiver.received) == 1
    assert 'webhook_deliveries_total{outcome="failed"}' in metrics
    assert 'events_appended_total{source="horizon"}' in metrics


async def test_a_replay_during_a_round_wins_over_the_round(
    horizon: httpx.AsyncClient, app: FastAPI, client_id: int
) -> None:
    async with Receiver(delay=0.2) as receiver:
        await add_webhook(horizon, client_id, receiver.url)
        for n in range(3):
            await _write(horizon, client_id, f"c{n}", "a@mail.com")
        endpoint_id = (await _endpoint(horizon, client_id))["id"]
        delivering = asyncio.ensure_future(drain(app))
        await receiver.wait_for(lambda: len(receiver.received) >= 1)
        async with app.state.runtime.database.transaction() as conn:
            await service.replay(conn, endpoint_id, 0)  # waits for the round on PostgreSQL
        await delivering
        await drain(app)

    sent = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert sorted(sent.values()) == [2, 2, 2]  # each event after the replay's cursor again

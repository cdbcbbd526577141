"""Where an event stands at an endpoint, and the words the events page says it in: from the
endpoint's position and the delivery row the deliverer kept, if any."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from customer_registry.console.event_views import delivery_text
from customer_registry.events.activity import Endpoint, delivery

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ENDPOINT = Endpoint(
    id="whk_1", url="https://hooks.example.com", event_types=None, created_at=NOW,
    position=10, retry_at=None, disabled_at=None, last_error=None, replayed=False,
)  # fmt: skip


def _event(position: int = 5, type: str = "customer.updated", **changes: Any) -> dict[str, Any]:
    return {"position": position, "type": type, "occurred_at": NOW + timedelta(1)} | changes


def _kept(attempts: int, failed: bool = False) -> dict[str, Any]:
    return {
        "attempts": attempts,
        "next_attempt_at": NOW + timedelta(minutes=5),
        "failed_at": NOW if failed else None,
        "last_error": "answered 503" if attempts else None,
    }


@pytest.mark.parametrize(
    ("event", "endpoint", "kept", "shown"),
    [
        (_event(), ENDPOINT, None, "Delivered"),
        (_event(11), ENDPOINT, None, "Pending: not sent yet"),
        (_event(), ENDPOINT, _kept(0), "Pending: waits for an earlier event of this customer"),
        (
            _event(),
            ENDPOINT,
            _kept(2),
            "Pending: 2 attempts, next try 2026-05-01 12:05:00 UTC; last error: answered 503",
        ),
        (
            _event(),
            ENDPOINT,
            _kept(1, failed=True),
            "Failed: given up after 1 attempt; last error: answered 503",
        ),
        (
            _event(11),
            replace(ENDPOINT, disabled_at=NOW, last_error="timed out"),
            None,
            "Not sent: the endpoint is disabled (last error: timed out)",
        ),
        (
            _event(11),
            replace(ENDPOINT, retry_at=NOW, last_error="refused"),
            None,
            "Pending: the receiver failed, next try 2026-05-01 12:00:00 UTC; last error: refused",
        ),
        (
            _event(),
            replace(ENDPOINT, event_types=frozenset({"customer.created"})),
            None,
            "Not sent: not one of the endpoint's event types",
        ),
        (
            _event(occurred_at=NOW - timedelta(1)),
            ENDPOINT,
            None,
            "Not sent: older than the endpoint",
        ),
        (
            _event(occurred_at=NOW - timedelta(1)),
            replace(ENDPOINT, replayed=True),
            None,
            "Delivered",
        ),
    ],
)
def test_a_delivery_is_told_in_words(
    event: dict[str, Any], endpoint: Endpoint, kept: dict[str, Any] | None, shown: str
) -> None:
    assert delivery_text(delivery(event, endpoint, kept)) == shown

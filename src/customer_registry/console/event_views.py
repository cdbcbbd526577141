"""What the events page says of a delivery and of a replay, in words."""

from customer_registry.console.views import moment
from customer_registry.events.activity import Delivery, Endpoint


def _attempts(count: int) -> str:
    return f"{count} attempt{'' if count == 1 else 's'}"


def _pending(delivery: Delivery) -> str:
    error = f"; last error: {delivery.last_error}" if delivery.last_error else ""
    if delivery.why == "waiting":
        return "Pending: waits for an earlier event of this customer"
    if delivery.why == "queued":
        return "Pending: not sent yet"
    if delivery.why == "receiver-down":
        return f"Pending: the receiver failed, next try {moment(delivery.next_attempt_at)}{error}"
    tried = _attempts(delivery.attempts)
    return f"Pending: {tried}, next try {moment(delivery.next_attempt_at)}{error}"


_SKIPPED = {
    "type": "Not sent: not one of the endpoint's event types",
    "older": "Not sent: older than the endpoint",
}


def delivery_text(delivery: Delivery) -> str:
    """A delivery's state in words, with what is known of its attempts."""
    if delivery.state == "delivered":
        return "Delivered"
    if delivery.state == "skipped":
        return _SKIPPED[delivery.why]
    if delivery.state == "pending":
        return _pending(delivery)
    if delivery.why == "disabled":
        return f"Not sent: the endpoint is disabled (last error: {delivery.last_error or '—'})"
    tried = _attempts(delivery.attempts)
    return f"Failed: given up after {tried}; last error: {delivery.last_error or '—'}"


def replay_notice(endpoints: list[Endpoint], endpoint_id: str | None, start: int | None) -> str:
    """What the page says after a replay of ``endpoint_id`` from event ``start``."""
    url = next((e.url for e in endpoints if e.id == endpoint_id), None)
    if url is None or start is None:
        return ""
    return (
        f"Replay started: {url} is sent event #{start} and every later one again, and is "
        "enabled if it was disabled. Deliveries run in the background: reload to follow them."
    )

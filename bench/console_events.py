"""The events page's share of bench/console.py: one change event per seed customer, two
webhook endpoints, and a given-up delivery of every tenth event at one of them.

The events are written by SQL beside the customers (as an import of them would have written
them, without their snapshots, which the page does not read); the endpoints through the
service, so that their secrets are sealed as the deliverer expects.
"""

from typing import Any

from sqlalchemy import text

from customer_registry.db import Sql
from customer_registry.events import service

_EVENTS = (
    "INSERT INTO customer_events ({seq}client_id, position, event_id, type, customer_number, "
    "version, occurred_at, source, changed_fields, customer) "
    "SELECT {seq_value}client_id, position, 'evt_' || customer_number, 'customer.created', "
    "customer_number, 1, {at}, 'import', '[]', '{{}}' FROM (SELECT client_id, customer_number, "
    "row_number() OVER (ORDER BY customer_number) AS position FROM customers "
    "WHERE client_id = {client_id}) AS numbered"
)
_AT = {"postgresql": "now() - interval '1 day'", "sqlite": "'2026-01-01 00:00:00'"}
# PostgreSQL's seq is an identity column; SQLite's writers give it, as the position.
_SEQ = {"postgresql": ("", ""), "sqlite": ("seq, ", "position, ")}
# PostgreSQL's sequencer goes on from here for the events the bench's changes write.
_POSITIONS = (
    "INSERT INTO event_positions (client_id, position, purged_through) "
    "SELECT {client_id}, max(position), 0 FROM customer_events WHERE client_id = {client_id}"
)
_GIVEN_UP = Sql(
    text(
        "INSERT INTO webhook_deliveries (client_id, endpoint_id, position, customer_number, "
        "attempts, first_attempt_at, next_attempt_at, failed_at, last_error) "
        "SELECT client_id, :endpoint_id, position, customer_number, 5, occurred_at, "
        "occurred_at, occurred_at, 'answered 503' FROM customer_events "
        "WHERE client_id = :client_id AND position % 10 = 0"
    )
)


def seed_statements(dialect: str, client_id: int) -> list[str]:
    """The SQL that gives every customer of the client its creation event."""
    return [
        _EVENTS.format(
            at=_AT[dialect],
            seq=_SEQ[dialect][0],
            seq_value=_SEQ[dialect][1],
            client_id=int(client_id),
        ),
        _POSITIONS.format(client_id=int(client_id)),
    ]


async def add_endpoints(app: Any, client_id: int) -> None:
    """Two endpoints, the first with a given-up delivery of every tenth event."""
    runtime = app.state.runtime
    async with runtime.database.transaction() as conn:
        store = runtime.store(conn)
        url = "https://hooks.example.com/registry"
        first = await service.add_webhook(store, client_id, url, None)
        await service.add_webhook(store, client_id, f"{url}/updates", ["customer.updated"])
        params = {"client_id": client_id, "endpoint_id": first.endpoint["id"]}
        await conn.execute(_GIVEN_UP, params)

"""change events (the outbox), their per-client positions, webhook endpoints and deliveries

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-02

It follows 0008 (the console's), which was merged first: a database at 0008 gets 0007 next.

From this revision on every committed change of a customer appends one row to
``customer_events`` in its own transaction. Changes made before it have no events: the feed
of an existing client starts empty. Webhook secrets are stored sealed by the vault
(associated data ``webhooks/<client>/<endpoint id>``, part of the stored data: never change
it); no key file is needed here, as there is nothing to seal yet.

``customer_events.seq`` is an identity cached one value at a time (PostgreSQL's default): the
sequencer relies on it growing in the order rows are inserted. Never give it a cache.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_Timestamp = sa.DateTime(timezone=True)
_SEQUENCED = sa.text("position IS NOT NULL")
_UNSEQUENCED = sa.text("position IS NULL")


def _events() -> None:
    op.create_table(
        "customer_events",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("position", sa.BigInteger()),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", _Timestamp, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("changed_fields", sa.Text(), nullable=False),
        sa.Column("previous", sa.Text()),
        sa.Column("customer", sa.Text()),
        sa.Column("organization_number", sa.String(200)),
        sa.PrimaryKeyConstraint("client_id", "seq", name="pk_customer_events"),
    )
    op.create_index(
        "ix_customer_events_client_id_position",
        "customer_events",
        ["client_id", "position"],
        unique=True,
        postgresql_where=_SEQUENCED,
        sqlite_where=_SEQUENCED,
    )
    op.create_index(
        "ix_customer_events_unsequenced",
        "customer_events",
        ["client_id", "seq"],
        postgresql_where=_UNSEQUENCED,
        sqlite_where=_UNSEQUENCED,
    )
    op.create_table(
        "event_positions",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("purged_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_event_positions"),
    )


def _webhooks() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event_types", sa.Text()),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", _Timestamp, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("retry_at", _Timestamp),
        sa.Column("failing_since", _Timestamp),
        sa.Column("disabled_at", _Timestamp),
        sa.Column("last_error", sa.String(200)),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.String(32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", _Timestamp),
        sa.Column("next_attempt_at", _Timestamp, nullable=False),
        sa.Column("failed_at", _Timestamp),
        sa.Column("last_error", sa.String(200)),
        sa.PrimaryKeyConstraint(
            "client_id", "endpoint_id", "position", name="pk_webhook_deliveries"
        ),
        sa.ForeignKeyConstraint(
            ["client_id", "endpoint_id"],
            ["webhook_endpoints.client_id", "webhook_endpoints.id"],
            name="fk_webhook_deliveries_client_id_webhook_endpoints",
            ondelete="CASCADE",
        ),
    )


def upgrade() -> None:
    _events()
    _webhooks()


def downgrade() -> None:
    for table in ("webhook_deliveries", "webhook_endpoints", "event_positions", "customer_events"):
        op.drop_table(table)

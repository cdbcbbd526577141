"""data keys per customer, erasure records, idempotency records by customer

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02

Personal data rights (issue 16). Each customer gets a data key of its own (``data_key``,
wrapped by the key file's key): new sealed values are encrypted under it, and erasing the
customer destroys it. Stored customers get theirs from the next ``keys rotate``, which moves
their sealed values under it; until then those stay readable under the key file's key.
An erasure leaves a record of its own (``customer_erasures``) holding the tombstones of the
customer's history: when, which fields, who; no values. Idempotency records name the
customer whose answer they hold, so that an erasure deletes them (records made before this
revision name none and expire within a day). Reveals record the request that made them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: on SQLite it would rebuild the table without the counting triggers.
    op.add_column("customers", sa.Column("data_key", sa.String(200)))
    op.add_column("idempotency_keys", sa.Column("client_id", sa.BigInteger()))
    op.add_column("idempotency_keys", sa.Column("customer_number", sa.String(100)))
    op.create_index(
        "ix_idempotency_keys_client_id_customer_number",
        "idempotency_keys",
        ["client_id", "customer_number"],
    )
    op.add_column("customer_reveals", sa.Column("request_id", sa.String(128)))
    op.create_table(
        "customer_erasures",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("credential_id", sa.String(36)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("tombstones", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "customer_number", "id", name="pk_customer_erasures"),
    )


def downgrade() -> None:
    op.drop_table("customer_erasures")
    op.execute("ALTER TABLE customer_reveals DROP COLUMN request_id")
    op.drop_index("ix_idempotency_keys_client_id_customer_number", "idempotency_keys")
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN customer_number")
    op.execute("ALTER TABLE idempotency_keys DROP COLUMN client_id")
    op.execute("ALTER TABLE customers DROP COLUMN data_key")

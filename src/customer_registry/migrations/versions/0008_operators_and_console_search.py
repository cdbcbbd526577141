"""operators, their sessions and reveals; console search indexes

Revision ID: 0008
Revises: 0006
Create Date: 2027-01-10

The console (issue 17) signs operators in and records each reveal of a masked national ID.
Its search pages through a name's matches by (name key, customer number): the name indexes
gain the customer number, so a page is read in index order however many customers share a
name. E-mail addresses get a case-folded search column, filled here for stored customers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME_KEYS = ("last_name_key", "full_name_key", "company_name_key")
_BATCH = 5000
_customers = sa.table(
    "customers",
    sa.column("client_id", sa.BigInteger()),
    sa.column("customer_number", sa.String()),
    sa.column("email", sa.String()),
    sa.column("email_key", sa.String()),
)

_SET_KEY = (
    sa.update(_customers)
    .where(
        _customers.c.client_id == sa.bindparam("key_client_id"),
        _customers.c.customer_number == sa.bindparam("key_number"),
    )
    .values(email_key=sa.func.nullif(sa.bindparam("key"), ""))
)


def _fill_email_keys() -> None:
    """Case-fold the stored addresses the way ``rules.email_key`` does (SQL's lower() does
    not fold every script alike on both databases)."""
    if context.is_offline_mode():
        return
    bind = op.get_bind()
    c = _customers.c
    after: tuple[int, str] = (-1, "")
    while True:
        rows = bind.execute(
            sa.select(c.client_id, c.customer_number, c.email)
            .where(c.email.is_not(None), sa.tuple_(c.client_id, c.customer_number) > after)
            .order_by(c.client_id, c.customer_number)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        keys = [
            {"key_client_id": client_id, "key_number": number, "key": email.strip().casefold()}
            for client_id, number, email in rows
        ]
        bind.execute(_SET_KEY, keys)  # one executemany per batch
        after = (rows[-1][0], rows[-1][1])


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("password_expires_at", sa.DateTime(timezone=True)),
        sa.Column("all_clients", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("name", name="uq_operators_name"),
    )
    op.create_table(
        "operator_clients",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("operator_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_operator_clients_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("client_id", "operator_id", name="pk_operator_clients"),
    )
    op.create_index("ix_operator_clients_operator_id", "operator_clients", ["operator_id"])
    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name="fk_operator_sessions_operator_id_operators"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operator_sessions"),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_index("ix_operator_sessions_expires_at", "operator_sessions", ["expires_at"])
    op.create_table(
        "customer_reveals",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_name", sa.String(100), nullable=False),
        sa.Column("fields", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "customer_number", "id", name="pk_customer_reveals"),
    )
    op.add_column("customers", sa.Column("email_key", sa.String(255)))
    _fill_email_keys()
    op.create_index("ix_customers_client_id_email_key", "customers", ["client_id", "email_key"])
    for key in _NAME_KEYS:
        op.drop_index(f"ix_customers_client_id_{key}", "customers")
        op.create_index(
            f"ix_customers_client_id_{key}_customer_number",
            "customers",
            ["client_id", key, "customer_number"],
        )


def downgrade() -> None:
    for key in _NAME_KEYS:
        op.drop_index(f"ix_customers_client_id_{key}_customer_number", "customers")
        op.create_index(f"ix_customers_client_id_{key}", "customers", ["client_id", key])
    op.drop_index("ix_customers_client_id_email_key", "customers")
    # Not batch mode: on SQLite it would rebuild the table without the counting triggers.
    op.execute("ALTER TABLE customers DROP COLUMN email_key")
    op.drop_table("customer_reveals")
    op.drop_table("operator_sessions")
    op.drop_table("operator_clients")
    op.drop_table("operators")

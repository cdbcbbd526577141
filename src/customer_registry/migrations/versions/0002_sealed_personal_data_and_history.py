"""personal data encrypted with blind indexes; customer history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Existing plaintext values are encrypted in place with the configured key file (and
decrypted again on downgrade). The associated-data format ``client/number/field`` is part
of the stored data: it must never change.
"""

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from customer_registry.config import Settings
from customer_registry.vault import Vault

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = ("ssn", "organization_number", "tax_identification_number", "birth_date")
_INDEXED = {"ssn": "ssn_index", "organization_number": "organization_number_index"}
_BATCH = 1000


def _vault() -> Vault:
    key_file = context.config.attributes.get("key_file") or Settings().key_file
    return Vault.open(Path(key_file))


def _rewrite(convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Apply ``convert`` to every customer row holding personal data, in batches."""
    if context.is_offline_mode():
        # `migrate --sql` prints DDL only: data needs the key file and a live database.
        return
    bind = op.get_bind()
    table = sa.table(
        "customers",
        *(sa.column(name) for name in ("client_id", "customer_number", *_SEALED)),
        *(sa.column(index) for index in _INDEXED.values()),
    )
    holding = sa.or_(*(table.c[name].is_not(None) for name in _SEALED))
    columns = (table.c[name] for name in ("client_id", "customer_number", *_SEALED))
    rows = bind.execute(sa.select(*columns).where(holding)).mappings().all()
    for start in range(0, len(rows), _BATCH):
        for row in rows[start : start + _BATCH]:
            key = sa.and_(
                table.c.client_id == row["client_id"],
                table.c.customer_number == row["customer_number"],
            )
            bind.execute(sa.update(table).where(key).values(convert(dict(row))))


def _sealed(vault: Vault) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def convert(row: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in _SEALED:
            value = row[name]
            if value is None:
                continue
            plain = value.isoformat() if isinstance(value, date) else str(value)
            context_ = f"{row['client_id']}/{row['customer_number']}/{name}"
            changes[name] = vault.encrypt(plain, context_)
            if name in _INDEXED:
                changes[_INDEXED[name]] = vault.tenantless_index(plain)
        return changes

    return convert


def _unsealed(vault: Vault) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def convert(row: dict[str, Any]) -> dict[str, Any]:
        return {
            name: vault.decrypt(row[name], f"{row['client_id']}/{row['customer_number']}/{name}")
            for name in _SEALED
            if row[name] is not None
        }

    return convert


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        for name in ("ssn", "organization_number", "tax_identification_number"):
            batch.alter_column(name, type_=sa.String(200), existing_type=sa.String(20))
        batch.alter_column(
            "birth_date",
            type_=sa.String(200),
            existing_type=sa.Date(),
            postgresql_using="birth_date::text",
        )
        for index in _INDEXED.values():
            batch.add_column(sa.Column(index, sa.String(32)))
        for name in _INDEXED:
            batch.drop_index(f"ix_customers_client_id_{name}")
    _rewrite(_sealed(_vault()))
    for index in _INDEXED.values():
        op.create_index(f"ix_customers_client_id_{index}", "customers", ["client_id", index])
    op.create_table(
        "customer_history",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credential_id", sa.String(36)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("dialect", sa.String(20), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "client_id", "customer_number", "version", name="pk_customer_history"
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_history")
    for index in _INDEXED.values():
        op.drop_index(f"ix_customers_client_id_{index}", "customers")
    _rewrite(_unsealed(_vault()))
    with op.batch_alter_table("customers") as batch:
        for index in _INDEXED.values():
            batch.drop_column(index)
        for name in ("ssn", "organization_number", "tax_identification_number"):
            batch.alter_column(name, type_=sa.String(20), existing_type=sa.String(200))
        if op.get_bind().dialect.name == "postgresql":
            # SQLite would copy the column with CAST(... AS DATE), which keeps only the year;
            # its Date type is ISO text anyway.
            batch.alter_column(
                "birth_date",
                type_=sa.Date(),
                existing_type=sa.String(200),
                postgresql_using="birth_date::date",
            )
        for name in _INDEXED:
            batch.create_index(f"ix_customers_client_id_{name}", ["client_id", name])

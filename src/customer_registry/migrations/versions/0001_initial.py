"""customers, credentials, signing keys

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEARCH_COLUMNS = (
    "ssn",
    "organization_number",
    "phone_e164",
    "mobile_phone_e164",
    "first_name_key",
    "last_name_key",
    "full_name_key",
    "company_name_key",
)
_NAME_KEYS = ("first_name_key", "last_name_key", "full_name_key", "company_name_key")
_NULLABLE_STRINGS = {
    "first_name": 50, "last_name": 50, "ssn": 20, "company_name": 140,
    "organization_number": 20, "phone_number": 20, "phone_e164": 20, "mobile_phone": 20,
    "mobile_phone_e164": 20, "email": 255, "street": 100, "street_number": 10,
    "street_number_additional": 10, "care_of": 100, "address_line3": 100, "postal_code": 10,
    "postal_place": 100, "country_code": 2,
}  # fmt: skip
_MORE_NULLABLE_STRINGS = {
    "individual_risk_score": 50, "salutation": 4, "language": 2,
    "tax_identification_number": 20, "payment_registration_id": 100, "psp_customer_id": 100,
    "psp_payment_method_id": 100,
}  # fmt: skip


def _name_key() -> sa.types.TypeEngine[str]:
    return sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


def _customer_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_number", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        *(sa.Column(name, sa.String(n)) for name, n in _NULLABLE_STRINGS.items()),
        sa.Column("existing_customer", sa.Boolean()),
        sa.Column("birth_date", sa.Date()),
        *(sa.Column(name, sa.String(n)) for name, n in _MORE_NULLABLE_STRINGS.items()),
        sa.Column("payment_id", sa.String(21), nullable=False),
        sa.Column("internal_number", sa.String(9), nullable=False),
        sa.Column("sign_up_id", sa.BigInteger(), nullable=False),
        *(sa.Column(name, _name_key()) for name in _NAME_KEYS),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("oauth_client_id", sa.String(64), nullable=False),
        sa.Column("oauth_secret_hash", sa.String(64), nullable=False),
        sa.Column("subscription_key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint("oauth_client_id", name="uq_credentials_oauth_client_id"),
        sa.UniqueConstraint("subscription_key_hash", name="uq_credentials_subscription_key_hash"),
    )
    op.create_table(
        "credential_clients",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("credential_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name="fk_credential_clients_credential_id_credentials",
        ),
        sa.PrimaryKeyConstraint("client_id", "credential_id", name="pk_credential_clients"),
    )
    op.create_index("ix_credential_clients_credential_id", "credential_clients", ["credential_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_table(
        "customers",
        *_customer_columns(),
        sa.PrimaryKeyConstraint("client_id", "customer_number", name="pk_customers"),
        *(
            sa.UniqueConstraint("client_id", column, name=f"uq_customers_client_id_{column}")
            for column in ("payment_id", "internal_number", "sign_up_id")
        ),
    )
    for column in _SEARCH_COLUMNS:
        op.create_index(f"ix_customers_client_id_{column}", "customers", ["client_id", column])


def downgrade() -> None:
    op.drop_table("customers")
    op.drop_table("signing_keys")
    op.drop_table("credential_clients")
    op.drop_table("credentials")

"""failed token requests per window; idempotency answers sealed

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Stored answers to idempotent requests hold customers' personal data: expired ones are
deleted, the others encrypted in place with the configured key file (decrypted again on
downgrade). The associated-data format ``idempotency/<credential>/<key>`` is part of the
stored data (idempotency.py writes it too): it must never change.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from customer_registry.config import Settings
from customer_registry.vault import Vault

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_answers = sa.table(
    "idempotency_keys",
    sa.column("credential_id"),
    sa.column("idempotency_key"),
    sa.column("body", sa.LargeBinary()),
    sa.column("expires_at", sa.DateTime(timezone=True)),
)


def _vault() -> Vault:
    key_file = context.config.attributes.get("key_file") or Settings().key_file
    return Vault.open(Path(key_file))


def _rewrite_bodies(converter: Callable[[Vault], Callable[[str, str], str]]) -> None:
    """Apply ``converter(vault)(body, context)`` to every stored answer: the key file is
    opened only when there is one."""
    if context.is_offline_mode():
        # `migrate --sql` prints DDL only: data needs the key file and a live database.
        return
    bind = op.get_bind()
    bind.execute(sa.delete(_answers).where(_answers.c.expires_at <= datetime.now(UTC)))
    t = _answers.c
    rows = bind.execute(
        sa.select(t.credential_id, t.idempotency_key, t.body).where(t.body.is_not(None))
    )
    found = rows.all()
    if not found:
        return
    convert = converter(_vault())
    for credential_id, key, body in found:
        where = sa.and_(t.credential_id == credential_id, t.idempotency_key == key)
        context_ = f"idempotency/{credential_id}/{key}"
        new_body = convert(bytes(body).decode(), context_).encode()
        bind.execute(sa.update(_answers).where(where).values(body=new_body))


def upgrade() -> None:
    op.create_table(
        "token_failures",
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_token_failures"),
    )
    op.create_index("ix_token_failures_window_ends_at", "token_failures", ["window_ends_at"])
    _rewrite_bodies(lambda vault: vault.encrypt)


def downgrade() -> None:
    _rewrite_bodies(lambda vault: vault.decrypt)
    op.drop_table("token_failures")

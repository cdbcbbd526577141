"""key check values; sealed signing keys; token generations; blind indexes per client

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Data steps need the key file (``key_file`` or the setting's). A database that already holds
sealed data is migrated only with a key file that decrypts it: this migration records that
file's keys as the ones every later process must hold (``key_checks``). A client's blind
index is derived from the old tenantless one, so nothing is decrypted on the way up.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from customer_registry.config import Settings
from customer_registry.errors import ConfigurationError
from customer_registry.vault import Vault, client_index

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = ("ssn", "organization_number", "tax_identification_number", "birth_date")
_INDEXED = {"ssn": "ssn_index", "organization_number": "organization_number_index"}
_BATCH = 1000
_customers = sa.table(
    "customers",
    *(sa.column(name) for name in ("client_id", "customer_number", *_SEALED, *_INDEXED.values())),
)
_signing_keys = sa.table("signing_keys", sa.column("kid"), sa.column("secret"))
_key_checks = sa.table(
    "key_checks", sa.column("kid"), sa.column("check_value"), sa.column("created_at")
)


def _holds_sealed_data(bind: sa.Connection) -> bool:
    sealed = sa.or_(*(_customers.c[name].is_not(None) for name in _SEALED))
    probes: tuple[sa.Select[Any], ...] = (
        sa.select(_customers.c.client_id).where(sealed),
        sa.select(sa.literal_column("1")).select_from(sa.table("customer_history")),
        sa.select(_signing_keys.c.kid),
    )
    return any(bind.execute(probe.limit(1)).first() for probe in probes)


def _vault(bind: sa.Connection) -> Vault | None:
    """The key file's vault, proven to decrypt the stored data; None when there is nothing
    sealed yet and no key file (the first process to open the database makes one)."""
    vault = Vault(Path(context.config.attributes.get("key_file") or Settings().key_file))
    holds = _holds_sealed_data(bind)
    if not vault.path.exists():
        if holds:
            raise ConfigurationError(
                f"the key file {vault.path} does not exist, but the database holds sealed "
                "data: migrate with the key file the database was used with"
            )
        return None
    vault.load()
    _prove(bind, vault)
    return vault


def _prove(bind: sa.Connection, vault: Vault) -> None:
    for name in _SEALED:
        row = bind.execute(
            sa.select(_customers.c.client_id, _customers.c.customer_number, _customers.c[name])
            .where(_customers.c[name].is_not(None))
            .limit(1)
        ).first()
        if row is None:
            continue
        try:
            vault.decrypt(row[2], f"{row[0]}/{row[1]}/{name}")
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"the key file {vault.path} cannot decrypt the stored data ({exc.message}): "
                "migrate with the key file the database was used with"
            ) from exc


def _record_keys(bind: sa.Connection, vault: Vault) -> None:
    now = datetime.now(UTC)
    rows = [
        {"kid": kid, "check_value": value, "created_at": now}
        for kid, value in vault.check_values().items()
    ]
    bind.execute(sa.insert(_key_checks), rows)


def _reseal_signing_keys(bind: sa.Connection, convert: Any) -> None:
    for kid, secret in bind.execute(sa.select(_signing_keys.c.kid, _signing_keys.c.secret)).all():
        context_ = f"signing-key/{kid}"
        new = convert(secret, context_)
        bind.execute(sa.update(_signing_keys).where(_signing_keys.c.kid == kid).values(secret=new))


def _rewrite_indexes(bind: sa.Connection, index_of: Any) -> None:
    """Set every blind index to ``index_of(row, field)``, in batches."""
    has_index = sa.or_(*(_customers.c[index].is_not(None) for index in _INDEXED.values()))
    rows = bind.execute(sa.select(_customers).where(has_index)).mappings().all()
    key = sa.and_(
        _customers.c.client_id == sa.bindparam("b_client_id"),
        _customers.c.customer_number == sa.bindparam("b_customer_number"),
    )
    values: dict[str, Any] = {index: sa.bindparam(index) for index in _INDEXED.values()}
    statement = sa.update(_customers).where(key).values(values)
    for start in range(0, len(rows), _BATCH):
        batch = [
            {
                "b_client_id": row["client_id"],
                "b_customer_number": row["customer_number"],
                **{index: index_of(row, name) for name, index in _INDEXED.items()},
            }
            for row in rows[start : start + _BATCH]
        ]
        bind.execute(statement, batch)


def _per_client(vault: Vault) -> Any:
    def index_of(row: Any, name: str) -> str | None:
        old = row[_INDEXED[name]]
        return None if old is None else client_index(vault.client_index_key(row["client_id"]), old)

    return index_of


def _tenantless(vault: Vault) -> Any:
    def index_of(row: Any, name: str) -> str | None:
        sealed = row[name]
        if sealed is None:
            return None
        context_ = f"{row['client_id']}/{row['customer_number']}/{name}"
        return vault.tenantless_index(vault.decrypt(sealed, context_))

    return index_of


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("kid", sa.String(32), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_key_checks"),
    )
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(
            sa.Column("token_generation", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("secret", type_=sa.Text(), existing_type=sa.String(128))
    if context.is_offline_mode():
        return  # `migrate --sql` prints DDL only: data needs the key file and a live database
    bind = op.get_bind()
    vault = _vault(bind)
    if vault is None:
        return
    _record_keys(bind, vault)
    _reseal_signing_keys(bind, vault.encrypt)
    _rewrite_indexes(bind, _per_client(vault))


def downgrade() -> None:
    if not context.is_offline_mode():
        bind = op.get_bind()
        vault = _vault(bind)
        if vault is not None:
            _rewrite_indexes(bind, _tenantless(vault))
            _reseal_signing_keys(bind, vault.decrypt)
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("secret", type_=sa.String(128), existing_type=sa.Text())
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("token_generation")
    op.drop_table("key_checks")

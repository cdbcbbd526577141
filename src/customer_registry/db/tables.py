"""Table metadata (SQLAlchemy Core): what the migrations build and every statement names."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Name keys are compared byte-wise so that a prefix search is an index range scan on
# PostgreSQL whatever the database's collation is.
NameKey = String(200).with_variant(String(200, collation="C"), "postgresql")
Timestamp = DateTime(timezone=True)
# Personal data encrypted by the vault: key id, nonce and tag make it longer than the value.
Sealed = String(200)

credentials = Table(
    "credentials",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("oauth_client_id", String(64), nullable=False, unique=True),
    Column("oauth_secret_hash", String(64), nullable=False),
    Column("subscription_key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
    # Tokens issued before the secrets were last rotated are refused: ours by generation
    # (counted up by each rotation, carried in the token), external ones by time.
    Column("rotated_at", Timestamp),
    Column("token_generation", Integer, nullable=False, server_default="0"),
)

credential_clients = Table(
    "credential_clients",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("credential_id", ForeignKey("credentials.id"), primary_key=True),
    Index(None, "credential_id"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(32), primary_key=True),
    # Sealed by the vault: the secret would let anyone with a dump forge tokens.
    Column("secret", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

# What the key file must hold: a check value per key id the database's data was sealed with.
key_checks = Table(
    "key_checks",
    metadata,
    Column("kid", String(32), primary_key=True),
    Column("check_value", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("type", String(10), nullable=False),
    Column("first_name", String(50)),
    Column("last_name", String(50)),
    Column("ssn", Sealed),
    Column("ssn_index", String(32)),
    Column("company_name", String(140)),
    Column("organization_number", Sealed),
    Column("organization_number_index", String(32)),
    Column("phone_number", String(20)),
    Column("phone_e164", String(20)),
    Column("mobile_phone", String(20)),
    Column("mobile_phone_e164", String(20)),
    Column("email", String(255)),
    Column("street", String(100)),
    Column("street_number", String(10)),
    Column("street_number_additional", String(10)),
    Column("care_of", String(100)),
    Column("address_line3", String(100)),
    Column("postal_code", String(10)),
    Column("postal_place", String(100)),
    Column("country_code", String(2)),
    Column("existing_customer", Boolean),
    Column("individual_risk_score", String(50)),
    Column("salutation", String(4)),
    Column("birth_date", Sealed),
    Column("language", String(2)),
    Column("tax_identification_number", Sealed),
    Column("payment_registration_id", String(100)),
    Column("psp_customer_id", String(100)),
    Column("psp_payment_method_id", String(100)),
    Column("payment_id", String(21), nullable=False),
    Column("internal_number", String(9), nullable=False),
    Column("sign_up_id", BigInteger, nullable=False),
    Column("first_name_key", NameKey),
    Column("last_name_key", NameKey),
    Column("full_name_key", NameKey),
    Column("company_name_key", NameKey),
    # The e-mail address case-folded, for the console's search (migration 0008).
    Column("email_key", String(255)),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # The customer's data key wrapped by the key file's key (crypto-shredding, migration 0009).
    Column("data_key", Sealed),
    UniqueConstraint("client_id", "payment_id"),
    UniqueConstraint("client_id", "internal_number"),
    UniqueConstraint("client_id", "sign_up_id"),
    *(
        Index(None, "client_id", column)
        for column in (
            "ssn_index",
            "organization_number_index",
            "phone_e164",
            "mobile_phone_e164",
            "first_name_key",
            "email_key",
        )
    ),
    # With the customer number: the console pages through a name's matches in index order,
    # however many customers share the name (migration 0008).
    *(
        Index(None, "client_id", column, "customer_number")
        for column in ("last_name_key", "full_name_key", "company_name_key")
    ),
)

# Kept by triggers (migration 0004): the size of a client's listing without counting it.
customer_counts = Table(
    "customer_counts",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("customers", BigInteger, nullable=False),
)

customer_history = Table(
    "customer_history",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("changed_at", Timestamp, nullable=False),
    Column("credential_id", String(36)),
    Column("request_id", String(128)),
    Column("dialect", String(20), nullable=False),
    Column("changes", Text, nullable=False),
)

# Keyed by credential, not client: a key is the caller's, whichever client it writes to.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("credential_id", String(36), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("headers", Text),
    Column("body", LargeBinary),
    Column("expires_at", Timestamp, nullable=False),
    # The customer whose answer it holds: its erasure deletes the record (migration 0009).
    Column("client_id", BigInteger),
    Column("customer_number", String(100)),
    Index(None, "expires_at"),
    Index(None, "client_id", "customer_number"),
)

# Failed token requests per subject (a hash of the attempted client id, or of the source
# address) in the current window: shared by every process and replica (throttle.py).
token_failures = Table(
    "token_failures",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_ends_at", Timestamp, nullable=False),
    Index(None, "window_ends_at"),
)

# The outbox (customers/outbox.py): one row per committed change of a customer, written by the
# change's own transaction. ``seq`` is taken at insert (PostgreSQL: an identity, cached one at a
# time so that it grows in the order rows are inserted; SQLite: the position). ``position`` is
# the per-client feed order, commit order: SQLite's one writer sets it at insert; on
# PostgreSQL transactions commit out of ``seq`` order, so events get it after they committed
# (events/repository.py: ``sequence``).
customer_events = Table(
    "customer_events",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("position", BigInteger),
    Column("event_id", String(32), nullable=False),
    Column("type", String(20), nullable=False),
    Column("customer_number", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("source", String(20), nullable=False),
    Column("request_id", String(128)),
    Column("changed_fields", Text, nullable=False),
    Column("previous", Text),
    Column("customer", Text),
    Column("organization_number", Sealed),
    Index(
        None,
        "client_id",
        "position",
        unique=True,
        postgresql_where=text("position IS NOT NULL"),
        sqlite_where=text("position IS NOT NULL"),
    ),
    # What the sequencer has still to order: empty on SQLite.
    Index(
        "ix_customer_events_unsequenced",
        "client_id",
        "seq",
        postgresql_where=text("position IS NULL"),
        sqlite_where=text("position IS NULL"),
    ),
)

# Per client: the last position the sequencer gave (PostgreSQL; SQLite's writers take the
# next position from the newest event), and the last one purged (a cursor before it is older
# than the retention).
event_positions = Table(
    "event_positions",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("purged_through", BigInteger, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("event_types", Text),  # a JSON list; NULL: every type
    Column("secret", Text, nullable=False),  # sealed by the vault
    Column("created_at", Timestamp, nullable=False),
    # Every event up to this position was delivered, given up, or is in webhook_deliveries.
    Column("position", BigInteger, nullable=False),
    Column("retry_at", Timestamp),  # the receiver failed: no delivery before this time
    Column("failing_since", Timestamp),  # first failure since the last success
    Column("disabled_at", Timestamp),
    Column("last_error", String(200)),
    # Counted up by each replay: a round that started before one records nothing.
    Column("generation", Integer, nullable=False),
)

# Deliveries that did not succeed at the first attempt, or wait behind one of their customer.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("endpoint_id", String(32), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("customer_number", String(100), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_attempt_at", Timestamp),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("failed_at", Timestamp),  # given up: kept, visible, until the event is purged
    Column("last_error", String(200)),
    ForeignKeyConstraint(
        ["client_id", "endpoint_id"],
        ["webhook_endpoints.client_id", "webhook_endpoints.id"],
        ondelete="CASCADE",
    ),
)

# Operators of the console (console/operators.py): not tenant data, keyed by their own ids.
operators = Table(
    "operators",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    # Set while the password is the one-time password the CLI printed: it must be replaced
    # at the first sign-in, and stops working at this time.
    Column("password_expires_at", Timestamp),
    Column("all_clients", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

operator_clients = Table(
    "operator_clients",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), primary_key=True),
    Index(None, "operator_id"),
)

# A signed-in browser: the SHA-256 of its cookie's random token, never the token.
operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("operator_id", ForeignKey("operators.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Index(None, "operator_id"),
    Index(None, "expires_at"),
)

# Each time an operator revealed a customer's masked personal data, by name: the name stays
# when the operator is removed.
customer_reveals = Table(
    "customer_reveals",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("revealed_at", Timestamp, nullable=False),
    Column("operator_name", String(100), nullable=False),
    Column("fields", String(200), nullable=False),
    Column("request_id", String(128)),
)

# One row per erased customer (privacy/): the proof of the erasure and its tombstones (JSON:
# "history", per version when, who, which fields; "accesses", its exports and reveals; no values).
customer_erasures = Table(
    "customer_erasures",
    metadata,
    Column("client_id", BigInteger, primary_key=True),
    Column("customer_number", String(100), primary_key=True),
    Column("id", String(36), primary_key=True),
    Column("erased_at", Timestamp, nullable=False),
    Column("source", String(20), nullable=False),
    Column("credential_id", String(36)),
    Column("request_id", String(128)),
    Column("last_version", Integer, nullable=False),
    Column("tombstones", Text, nullable=False),
)

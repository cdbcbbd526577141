"""Migration 0008 fills the e-mail search column of stored customers, and can be undone."""

from pathlib import Path

from customer_registry import migrations
from tests.test_migrations import _execute


def test_upgrade_fills_email_keys_and_downgrade_drops_them(
    empty_database: str, key_file: Path
) -> None:
    migrations.upgrade(empty_database, "0006", key_file=key_file)
    for number, email in (("a", "Ola.Nordmann@Example.NO"), ("b", None)):
        value = "NULL" if email is None else f"'{email}'"
        _execute(
            empty_database,
            "INSERT INTO customers (client_id, customer_number, version, type, email, payment_id,"
            f" internal_number, sign_up_id, created_at, updated_at) VALUES (1, '{number}', 1,"
            f" 'Person', {value}, '{number}', '1000000{ord(number)}', {ord(number)},"
            " '2026-01-01', '2026-01-01')",
        )

    migrations.upgrade(empty_database, key_file=key_file)
    keys = _execute(empty_database, "SELECT customer_number, email_key FROM customers ORDER BY 1")
    migrations.downgrade(empty_database, "0006", key_file=key_file)
    counted = _execute(
        empty_database, "SELECT CAST(SUM(customers) AS INTEGER) FROM customer_counts"
    )

    assert keys == [("a", "ola.nordmann@example.no"), ("b", None)]
    assert counted == [(2,)]  # the counting triggers survive the downgrade

"""The customer and access SQL on the migrated database: personal data sealed at rest, derived
search columns kept with their values, and what a credential or subscription key covers."""

import dataclasses
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from customer_registry.auth import credentials
from customer_registry.customers import (
    access_repository,
    changes,
    history_repository,
    outbox,
    repository,
    service,
)
from customer_registry.customers.access import Caller, TokenClaim
from customer_registry.customers.model import UNCONDITIONAL, Customer
from customer_registry.db import customer_events, customer_history, customers
from customer_registry.errors import ConfigurationError, Forbidden, NotAuthenticated
from customer_registry.vault import digest
from tests.conftest import create_credential, new_client_id
from tests.customers.conftest import AUDIT, full_person, person, store_of, write

_NOW = datetime(2026, 1, 2, tzinfo=UTC)
_PLAINTEXTS = ("02016126007", "123456785", "TIN-55-0042", "1961-01-02")


async def _create(app: FastAPI, customer: Customer) -> Customer:
    async with store_of(app) as store:
        return await service.upsert(store, write(customer), AUDIT, UNCONDITIONAL)


async def _raw(app: FastAPI, table: sa.Table, client_id: int, number: str) -> list[str]:
    """The stored row(s) of the customer, every value as text."""
    where = sa.and_(table.c.client_id == client_id, table.c.customer_number == number)
    async with store_of(app) as store:
        rows = await store.conn.fetch(sa.select(table).where(where))
    return [str(value) for row in rows for value in tuple(row)]


async def test_personal_data_is_stored_encrypted_and_read_back_as_written(
    app: FastAPI, client_id: int
) -> None:
    created = await _create(app, full_person(client_id, "c1"))

    stored = await _raw(app, customers, client_id, "c1")
    logged = await _raw(app, customer_history, client_id, "c1")
    async with store_of(app) as store:
        read = await repository.lock(store, client_id, "c1")

    for plain in _PLAINTEXTS:
        assert not [value for value in stored + logged if plain in value], plain
    assert "Lovelace" in stored  # what is not personal data is stored as it is
    assert read == created
    assert (read.ssn, read.birth_date) == ("02016126007", date(1961, 1, 2))


async def test_a_sealed_value_moved_to_another_customers_row_does_not_decrypt(
    app: FastAPI, client_id: int
) -> None:
    await _create(app, full_person(client_id, "c1"))
    await _create(app, person(client_id, "c2"))
    c = customers.c
    where = sa.and_(c.client_id == client_id, c.customer_number == "c2")
    async with store_of(app) as store:
        sealed = await store.conn.fetchval(
            sa.select(c.ssn).where(c.client_id == client_id, c.customer_number == "c1")
        )
        own = await store.conn.fetchval(sa.select(c.ssn).where(where))
        await store.conn.execute(sa.update(customers).where(where).values(ssn=sealed))

        with pytest.raises(ConfigurationError, match="cannot be decrypted"):
            await repository.lock(store, client_id, "c2")
        # A value no key opens would stop every later `keys rotate` on the shared database.
        await store.conn.execute(sa.update(customers).where(where).values(ssn=own))


async def test_changing_the_country_reads_the_stored_phone_numbers_again(
    app: FastAPI, client_id: int
) -> None:
    await _create(app, person(client_id, "c1", phone_number="22 33 44 55", country_code="NO"))
    await _create(app, person(client_id, "c1", phone_number="22 33 44 55", country_code="DK"))

    async with store_of(app) as store:
        as_danish = await repository.find_by_phone(store, client_id, "+4522334455")
        as_norwegian = await repository.find_by_phone(store, client_id, "+4722334455")

    assert as_danish is not None
    assert as_danish.phone_number == "22 33 44 55"
    assert as_norwegian is None


async def test_an_insert_of_a_taken_number_writes_neither_customer_nor_history_nor_event(
    app: FastAPI, client_id: int
) -> None:
    created = await _create(app, person(client_id, "c1"))
    new, entry = changes.creation(person(client_id, "c1", first_name="Other"), AUDIT, _NOW)

    async with store_of(app) as store:
        recorded = (
            history_repository.row(store, entry, new.data_key),
            outbox.record(store, new, entry),
        )
        inserted = await repository.insert_new(store, new, recorded)
        entries = await history_repository.history(store, client_id, "c1")
        stored = await repository.lock(store, client_id, "c1")
        events = await store.conn.fetchval(
            sa.select(sa.func.count()).where(customer_events.c.client_id == client_id)
        )

    assert inserted is None
    assert stored == created
    assert [e.version for e in entries] == [1]
    assert events == 1


def _claim(issued: credentials.IssuedCredential, client_id: int) -> TokenClaim:
    """The claim of a token just issued for the credential (its generation: none rotated)."""
    return TokenClaim(client_id, issued.credential_id, int(time.time()), generation=0)


async def _token_caller(app: FastAPI, claim: TokenClaim) -> Caller:
    async with app.state.runtime.database.transaction() as conn:
        return await access_repository.get_token_caller(conn, claim)


async def test_a_credential_covering_the_client_gives_the_tokens_caller(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id, new_client_id())

    caller = await _token_caller(app, _claim(issued, client_id))

    assert (caller.client_id, caller.credential_id) == (client_id, issued.credential_id)


async def test_a_revoked_credentials_token_is_not_authenticated(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id)
    claim = _claim(issued, client_id)
    async with app.state.runtime.database.transaction() as conn:
        assert await credentials.revoke_credential(conn, issued.oauth_client_id)

    with pytest.raises(NotAuthenticated, match="revoked"):
        await _token_caller(app, claim)


async def test_a_token_from_before_a_rotation_is_not_authenticated(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id)
    claim = _claim(issued, client_id)
    async with app.state.runtime.database.transaction() as conn:
        assert await credentials.rotate_credential(conn, issued.oauth_client_id)

    with pytest.raises(NotAuthenticated, match="rotated"):
        await _token_caller(app, claim)


@pytest.mark.parametrize(("issued_before", "accepted"), [(60, False), (-60, True)])
async def test_an_identity_providers_token_counts_only_if_issued_after_the_last_rotation(
    app: FastAPI, client_id: int, issued_before: int, accepted: bool
) -> None:
    issued = await create_credential(app, client_id)
    async with app.state.runtime.database.transaction() as conn:
        assert await credentials.rotate_credential(conn, issued.oauth_client_id)
    # An external token carries no generation: its issue time is compared with the rotation.
    claim = TokenClaim(client_id, issued.credential_id, int(time.time()) - issued_before)

    if accepted:
        assert (await _token_caller(app, claim)).client_id == client_id
    else:
        with pytest.raises(NotAuthenticated, match="rotated"):
            await _token_caller(app, claim)


async def test_a_token_of_an_unknown_credential_is_not_authenticated(
    app: FastAPI, client_id: int
) -> None:
    claim = TokenClaim(client_id, "00000000-0000-0000-0000-000000000000", int(time.time()))

    with pytest.raises(NotAuthenticated):
        await _token_caller(app, claim)


async def test_a_credential_not_covering_the_client_is_forbidden_and_reads_no_customer(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, new_client_id())
    await _create(app, person(client_id, "c1"))
    claim = _claim(issued, client_id)

    with pytest.raises(Forbidden, match=f"does not cover client {client_id}"):
        await _token_caller(app, claim)
    async with store_of(app) as store:
        coverage, customer = await repository.get_covered(store, claim, "c1")
    assert coverage["covered_client_id"] is None
    assert customer is None


async def test_a_covered_read_decrypts_only_the_sealed_fields_shown(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id)
    created = await _create(app, full_person(client_id, "c1"))
    shown = frozenset({"organization_number"})

    async with store_of(app) as store:
        _, customer = await repository.get_covered(
            store, _claim(issued, client_id), "c1", shown=shown
        )

    assert customer == dataclasses.replace(
        created, ssn=None, tax_identification_number=None, birth_date=None
    )


async def _key_caller(app: FastAPI, key: str | None) -> Caller:
    async with app.state.runtime.database.transaction() as conn:
        return await access_repository.get_key_caller(conn, key)


async def test_a_subscription_key_gives_the_one_client_it_covers(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id)

    caller = await _key_caller(app, issued.subscription_key)

    assert (caller.client_id, caller.credential_id) == (client_id, issued.credential_id)


async def test_a_subscription_key_covering_two_clients_is_forbidden_and_reads_no_customer(
    app: FastAPI, client_id: int
) -> None:
    other = new_client_id()
    issued = await create_credential(app, client_id, other)
    await _create(app, person(client_id, "c1"))

    with pytest.raises(Forbidden, match="covers clients") as refused:
        await _key_caller(app, issued.subscription_key)
    async with store_of(app) as store:
        key = {"key_hash": digest(issued.subscription_key)}
        coverage, customer = await repository.get_keyed(store, key, "c1")

    assert f"{min(client_id, other)}, {max(client_id, other)}" in refused.value.message
    assert sorted(row["covered_client_id"] for row in coverage) == sorted([client_id, other])
    assert customer is None


@pytest.mark.parametrize("key", [None, "", "0" * 32])
async def test_a_missing_or_unknown_subscription_key_is_not_authenticated(
    app: FastAPI, key: str | None
) -> None:
    with pytest.raises(NotAuthenticated, match="subscription key"):
        await _key_caller(app, key)


async def test_a_revoked_credentials_subscription_key_is_not_authenticated(
    app: FastAPI, client_id: int
) -> None:
    issued = await create_credential(app, client_id)
    async with app.state.runtime.database.transaction() as conn:
        await credentials.revoke_credential(conn, issued.oauth_client_id)

    with pytest.raises(NotAuthenticated, match="invalid subscription key"):
        await _key_caller(app, issued.subscription_key)

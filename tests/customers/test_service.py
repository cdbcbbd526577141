"""The write use cases on the migrated database, with the races the API cannot force: two
transactions on two connections, and a scripted random source for generated identifiers."""

import asyncio
import contextlib
import dataclasses
import secrets

import pytest
from fastapi import FastAPI

from customer_registry.customers import (
    batches,
    history_repository,
    identifiers,
    repository,
    search_repository,
    service,
)
from customer_registry.customers.errors import CustomerChanged, IdentifierTaken
from customer_registry.customers.model import UNCONDITIONAL, Condition, Customer, Locked
from customer_registry.customers.service import WriteOutcome
from customer_registry.db import Database, Store
from tests.customers.conftest import (
    AUDIT,
    person,
    store_of,
    transaction,
    waiting_statement,
    write,
)

Saved = tuple[Customer, WriteOutcome]


async def _save(store: Store, customer: Customer, locked: Locked | None = None) -> Saved:
    return await service.save(
        store, write(customer), AUDIT, UNCONDITIONAL, may_create=True, locked=locked
    )


async def _save_on(database: Database, app: FastAPI, customer: Customer) -> Saved:
    async with transaction(database, app) as store:
        return await _save(store, customer)


async def _versions(app: FastAPI, client_id: int, number: str) -> list[int]:
    async with store_of(app) as store:
        entries = await history_repository.history(store, client_id, number)
    return [entry.version for entry in entries]


async def _stored(app: FastAPI, client_id: int, number: str) -> Customer | None:
    async with store_of(app) as store:
        return await repository.lock(store, client_id, number)


async def test_two_transactions_creating_one_customer_leave_one_row_the_second_an_update(
    app: FastAPI, other_database: Database, database_url: str, client_id: int
) -> None:
    async with store_of(app) as first:
        created, created_as = await _save(first, person(client_id, "c1", email="a@mail.no"))
        second = person(client_id, "c1", email="b@mail.no")
        racing = asyncio.create_task(_save_on(other_database, app, second))
        waiting_in = await waiting_statement(database_url, racing)
    updated, updated_as = await racing

    # PostgreSQL: the second insert waits for the first; once it commits, the insert does
    # nothing and the write becomes an update. SQLite: the second writer waits to begin.
    assert waiting_in is None or "INSERT INTO customers" in waiting_in
    assert (created_as, updated_as) == ("created", "updated")
    assert updated.version == 2
    assert updated.email == "b@mail.no"
    assert (updated.payment_id, updated.internal_number, updated.sign_up_id) == (
        created.payment_id, created.internal_number, created.sign_up_id,
    )  # fmt: skip
    async with store_of(app) as store:
        assert await search_repository.count(store, client_id) == 1
    assert await _versions(app, client_id, "c1") == [1, 2]


async def test_a_create_after_a_lock_that_found_nothing_updates_the_customer_made_meanwhile(
    app: FastAPI, other_database: Database, client_id: int
) -> None:
    if app.state.runtime.database.dialect == "sqlite":
        pytest.skip("SQLite's writer holds the whole database: nobody creates meanwhile")
    async with store_of(app) as late:
        locked = Locked(await repository.lock(late, client_id, "c1"))
        created, _ = await _save_on(other_database, app, person(client_id, "c1", email="a@x.no"))
        saved, outcome = await _save(late, person(client_id, "c1", email="b@x.no"), locked)

    assert locked.customer is None
    assert outcome == "updated"
    assert (saved.version, saved.email, saved.payment_id) == (2, "b@x.no", created.payment_id)
    assert await _versions(app, client_id, "c1") == [1, 2]


async def test_a_write_waits_for_the_transaction_that_holds_the_customer(
    app: FastAPI, other_database: Database, database_url: str, client_id: int
) -> None:
    async with store_of(app) as store:
        await _save(store, person(client_id, "c1", email="v1@mail.no"))

    async with store_of(app) as first:
        await _save(first, person(client_id, "c1", email="v2@mail.no"))
        racing = asyncio.create_task(
            _save_on(other_database, app, person(client_id, "c1", email="v3@mail.no"))
        )
        waiting_in = await waiting_statement(database_url, racing)
    saved, outcome = await racing

    # PostgreSQL: it waits in the locking read; SQLite: writers take turns.
    assert waiting_in is None or "FOR UPDATE" in waiting_in
    assert (outcome, saved.version, saved.email) == ("updated", 3, "v3@mail.no")
    async with store_of(app) as store:
        last = (await history_repository.history(store, client_id, "c1"))[-1]
    # The waiting write compared against the committed second version: no update is lost.
    assert [(c.field, c.old, c.new) for c in last.changes] == [
        ("email", "v2@mail.no", "v3@mail.no")
    ]


async def _save_if(
    database: Database, app: FastAPI, customer: Customer, condition: Condition
) -> Saved:
    async with transaction(database, app) as store:
        return await service.save(store, write(customer), AUDIT, condition, may_create=True)


@pytest.mark.parametrize(
    ("seeded", "condition"),
    [(False, Condition(create_only=True)), (True, Condition(versions=frozenset({1})))],
    ids=["If-None-Match: *", "If-Match: 1"],
)
async def test_a_conditional_write_that_waited_for_another_is_refused_once_that_one_wrote(
    app: FastAPI,
    other_database: Database,
    database_url: str,
    client_id: int,
    seeded: bool,
    condition: Condition,
) -> None:
    if seeded:
        async with store_of(app) as store:
            await _save(store, person(client_id, "c1", email="v1@mail.no"))

    async with store_of(app) as first:
        won, _ = await _save(first, person(client_id, "c1", email="first@mail.no"))
        racing = asyncio.create_task(
            _save_if(other_database, app, person(client_id, "c1", email="late@mail.no"), condition)
        )
        await waiting_statement(database_url, racing)

    with pytest.raises(CustomerChanged):
        await racing
    assert await _stored(app, client_id, "c1") == won


class _Draws:
    """``secrets`` for ``identifiers``: ``randbelow`` answers the scripted values in turn
    (then the real ones, or the script again when ``repeat``); the rest is the real module."""

    def __init__(self, values: list[int], *, repeat: bool = False) -> None:
        self.values, self.repeat, self.calls = values, repeat, 0
        self.token_hex, self.token_bytes = secrets.token_hex, secrets.token_bytes

    def randbelow(self, limit: int) -> int:
        self.calls += 1
        if self.repeat:
            return self.values[(self.calls - 1) % len(self.values)]
        return self.values.pop(0) if self.values else secrets.randbelow(limit)


def _ids_of(customer: Customer) -> tuple[str, str, int]:
    return customer.payment_id, customer.internal_number, customer.sign_up_id


def _drawn(payment: int, internal: int, sign_up: int) -> tuple[str, str, int]:
    """The identifiers that draws of these values give."""
    body = f"{payment:020d}"
    return body + identifiers.luhn_check_digit(body), str(internal + 10**8), sign_up + 10**8


@pytest.mark.parametrize(
    "clash", [(11, 22, 23), (21, 12, 23), (21, 22, 13)], ids=["paymentId", "internal", "signUp"]
)
async def test_a_generated_identifier_held_by_another_customer_is_drawn_again(
    app: FastAPI, client_id: int, monkeypatch: pytest.MonkeyPatch, clash: tuple[int, int, int]
) -> None:
    draws = _Draws([11, 12, 13, *clash, 31, 32, 33])
    monkeypatch.setattr(identifiers, "secrets", draws)
    async with store_of(app) as store:
        seeded, _ = await _save(store, person(client_id, "seed"))
        created, outcome = await _save(store, person(client_id, "c1"))

    assert _ids_of(seeded) == _drawn(11, 12, 13)
    assert (outcome, _ids_of(created)) == ("created", _drawn(31, 32, 33))
    assert draws.values == []
    assert await _versions(app, client_id, "c1") == [1]


async def test_a_create_that_keeps_drawing_held_identifiers_fails_and_writes_nothing(
    app: FastAPI, client_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = _Draws([7], repeat=True)
    monkeypatch.setattr(identifiers, "secrets", draws)
    async with store_of(app) as store:
        seeded, _ = await _save(store, person(client_id, "seed"))
        with pytest.raises(RuntimeError, match="no unused identifiers"):
            await _save(store, person(client_id, "c1"))
        # Still in the transaction: the failed attempts left no row and no history.
        assert await repository.lock(store, client_id, "c1") is None
        assert await history_repository.history(store, client_id, "c1") == []
        assert await repository.lock(store, client_id, "seed") == seeded

    assert draws.calls == 3 * (1 + service._ATTEMPTS)
    assert await _versions(app, client_id, "seed") == [1]


async def test_a_create_bringing_an_identifier_another_customer_holds_names_the_holder(
    app: FastAPI, client_id: int
) -> None:
    async with store_of(app) as store:
        seeded, _ = await _save(store, person(client_id, "seed"))
        brought = dataclasses.replace(person(client_id, "c1"), sign_up_id=seeded.sign_up_id)
        with pytest.raises(IdentifierTaken) as refused:
            await _save(store, brought)
        assert await repository.lock(store, client_id, "c1") is None

    assert [(p.name, p.reason) for p in refused.value.invalid_parameters] == [
        ("signUpId", "already used by customer 'seed'")
    ]


class _Abort(Exception):
    """Raised to end a transaction with a rollback."""


async def _rolled_back(app: FastAPI, customer: Customer) -> tuple[Customer, list[int]]:
    """Save ``customer`` in a transaction that then rolls back; the customer as saved and
    the history versions the transaction saw before the rollback."""
    with contextlib.suppress(_Abort):
        async with store_of(app) as store:
            saved, _ = await _save(store, customer)
            versions = [
                entry.version
                for entry in await history_repository.history(
                    store, customer.client_id, customer.customer_number
                )
            ]
            raise _Abort
    return saved, versions


async def test_a_rolled_back_update_leaves_neither_the_change_nor_its_history(
    app: FastAPI, client_id: int
) -> None:
    async with store_of(app) as store:
        created, _ = await _save(store, person(client_id, "c1"))

    changed, seen = await _rolled_back(app, person(client_id, "c1", email="new@mail.no"))

    assert (changed.version, seen) == (2, [1, 2])
    assert await _stored(app, client_id, "c1") == created
    assert await _versions(app, client_id, "c1") == [1]


async def test_a_rolled_back_create_leaves_neither_customer_nor_history(
    app: FastAPI, client_id: int
) -> None:
    created, seen = await _rolled_back(app, person(client_id, "c1"))

    assert (created.version, seen) == (1, [1])
    assert await _stored(app, client_id, "c1") is None
    assert await _versions(app, client_id, "c1") == []


async def test_an_import_batch_reports_each_rows_outcome_and_writes_only_the_accepted(
    app: FastAPI, client_id: int
) -> None:
    async with store_of(app) as store:
        for number in ("changed", "same"):
            await _save(store, person(client_id, number))
        holder, _ = await _save(store, person(client_id, "holder"))
    rows = [
        person(client_id, "new"),
        person(client_id, "changed", email="new@mail.no"),
        person(client_id, "same"),
        dataclasses.replace(person(client_id, "clash"), payment_id=holder.payment_id),
    ]

    async with store_of(app) as store:
        outcomes = await batches.upsert_many(store, [(write(row), AUDIT) for row in rows])

    assert [o.kind for o in outcomes] == ["created", "updated", "unchanged", "rejected"]
    assert [(p.name, p.reason) for p in outcomes[3].reasons] == [
        ("paymentId", "already used by customer 'holder'")
    ]
    versions = {n: await _versions(app, client_id, n) for n in ("new", "changed", "same", "clash")}
    assert versions == {"new": [1], "changed": [1, 2], "same": [1], "clash": []}
    changed = await _stored(app, client_id, "changed")
    assert changed is not None
    assert changed.email == "new@mail.no"

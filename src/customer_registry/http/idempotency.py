"""Idempotent writes: a retried POST/PUT with the same key gets the first answer again.

The key (``Idempotency-Key``; on the Subscriptions routes also ``X-Request-ID``, which
Riverty's accounting APIs document as "repeated requests with the same ID may be ignored")
is claimed per credential inside the request's own transaction, and ``IdempotentRoute``
stores the response under the claim in that same transaction, before it commits: the write
and its stored answer exist together or not at all. A repeat with the same request gets the
stored answer (``Idempotent-Replayed: true``) for 24 hours; with a different request a 422;
while the first is still running a 409. Answers hold personal data: their bodies are stored
encrypted by the vault, and expired records are purged (``purge_expired``).
"""

import hashlib
import json
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import and_, bindparam, delete, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.auth.callers import horizon_client, subscription_client
from customer_registry.customers.access import Caller
from customer_registry.db import Sql, Tx, idempotency_keys
from customer_registry.db.request import CustomerStore
from customer_registry.errors import BusinessError, Conflict, InvalidParameter, RequestInvalid
from customer_registry.vault import Vault

RETENTION = timedelta(hours=24)
_READS = frozenset({"GET", "HEAD"})
_KEY_PATTERN = "^[ -~]{1,255}$"
_REPLAYED_HEADERS = ("content-type", "etag")
_k = idempotency_keys.c


class IdempotencyKeyReused(BusinessError):
    status = 422
    code = "idempotency-key-reused"
    title = "Idempotency key reused"

    def __init__(self) -> None:
        super().__init__("this idempotency key was used for a different request")


class IdempotentRequestRunning(Conflict):
    code = "idempotent-request-running"
    title = "Request still running"

    def __init__(self) -> None:
        super().__init__("a request with this idempotency key is still running; retry later")


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(frozen=True, slots=True)
class _Claim:
    credential_id: str
    key: str
    conn: Tx
    vault: Vault
    client_id: int

    def params(self) -> dict[str, str]:
        return {"key_credential": self.credential_id, "key": self.key}

    def seal(self, body: bytes) -> bytes:
        return self.vault.encrypt(body.decode(), self.context()).encode()

    def unseal(self, sealed: bytes) -> bytes:
        return self.vault.decrypt(bytes(sealed).decode(), self.context()).encode()

    def context(self) -> str:
        # Part of the stored data (migration 0006 writes it too): never change it.
        return f"idempotency/{self.credential_id}/{self.key}"


def _checked(key: str | None) -> str | None:
    if key is not None and not re.fullmatch(_KEY_PATTERN, key):
        reason = "must be 1 to 255 printable ASCII characters"
        raise RequestInvalid([InvalidParameter("Idempotency-Key", reason)])
    return key


async def _fingerprint(request: Request) -> str:
    head = "\0".join((request.method, request.url.path, request.url.query)).encode()
    return hashlib.sha256(head + b"\0" + await request.body()).hexdigest()


def lock_id(credential_id: str, key: str) -> int:
    """The PostgreSQL advisory lock a running request holds on its key."""
    digest = hashlib.sha256(f"{credential_id}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_TRY_LOCK = Sql(text("SELECT pg_try_advisory_xact_lock(:lock)"))


async def _lock_or_conflict(conn: Tx, claim: _Claim) -> None:
    # PostgreSQL would make a concurrent repeat wait on the uncommitted claim; answer it now.
    # (SQLite runs writers one at a time, so a repeat only ever sees a finished claim.)
    if conn.dialect != "postgresql":
        return
    locked = await conn.fetchval(_TRY_LOCK, {"lock": lock_id(claim.credential_id, claim.key)})
    if not locked:
        raise IdempotentRequestRunning()


def _stored_response(claim: _Claim, row: Any) -> Response:
    headers = {**json.loads(row["headers"]), "Idempotent-Replayed": "true"}
    body = b"" if row["body"] is None else claim.unseal(row["body"])
    return Response(content=body, status_code=row["status"], headers=headers)


_WHERE_KEY = and_(
    _k.credential_id == bindparam("key_credential"), _k.idempotency_key == bindparam("key")
)
_NEW_CLAIM = Sql(
    postgresql.insert(idempotency_keys).on_conflict_do_nothing().returning(_k.credential_id),
    sqlite.insert(idempotency_keys).on_conflict_do_nothing().returning(_k.credential_id),
)
_CLAIMED = Sql(select(idempotency_keys).where(_WHERE_KEY))
_RECLAIM = Sql(
    update(idempotency_keys)
    .where(_WHERE_KEY)
    .values(
        request_hash=bindparam("new_hash"),
        status=None,
        headers=None,
        body=None,
        expires_at=bindparam("new_expiry"),
    )
)
_ANSWER = Sql(
    update(idempotency_keys)
    .where(_WHERE_KEY)
    .values(
        status=bindparam("new_status"),
        headers=bindparam("new_headers"),
        body=bindparam("new_body"),
        client_id=bindparam("new_client_id"),
        customer_number=bindparam("new_customer_number"),
    )
)


async def _claim(conn: Tx, claim: _Claim, fingerprint: str) -> None:
    now = datetime.now(UTC)
    expires_at = now + RETENTION
    values = {
        "credential_id": claim.credential_id,
        "idempotency_key": claim.key,
        "request_hash": fingerprint,
        "status": None,
        "headers": None,
        "body": None,
        "expires_at": expires_at,
        "client_id": None,
        "customer_number": None,
    }
    if await conn.fetchval(_NEW_CLAIM, values) is not None:
        return
    key = claim.params()
    row = await conn.fetchrow(_CLAIMED, key)
    if row["expires_at"] <= now:
        await conn.execute(_RECLAIM, {**key, "new_hash": fingerprint, "new_expiry": expires_at})
        return
    if row["request_hash"] != fingerprint:
        raise IdempotencyKeyReused()
    raise _Replay(_stored_response(claim, row))


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=_KEY_PATTERN,
        description="Repeat the request with the same key to get the first answer again "
        "(24 hours, per credential); on the Subscriptions routes X-Request-ID serves too.",
    ),
]


def guard(
    authenticate: Callable[..., Coroutine[Any, Any, Caller]], *, request_id_counts: bool
) -> Callable[..., Coroutine[Any, Any, None]]:
    async def guard(
        request: Request,
        store: CustomerStore,
        principal: Annotated[Caller, Depends(authenticate)],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> None:
        request_id = request.headers.get("x-request-id") if request_id_counts else None
        key = _checked(request_id if idempotency_key is None else idempotency_key)
        if key is None:
            return
        claim = _Claim(principal.credential_id, key, store.conn, store.vault, principal.client_id)
        await _lock_or_conflict(store.conn, claim)
        await _claim(store.conn, claim, await _fingerprint(request))
        request.state.idempotency_claim = claim

    return guard


# Handler parameters, placed after authentication: the key belongs to the caller's credential.
HorizonIdempotency = Annotated[None, Depends(guard(horizon_client, request_id_counts=False))]
SubscriptionsIdempotency = Annotated[
    None, Depends(guard(subscription_client, request_id_counts=True))
]


def _customer_number(request: Request, response: Response) -> str | None:
    """The customer whose answer this is: its erasure deletes the record. A create by POST
    names it in its answer only (Subscriptions: as ``externalCustomerReference``)."""
    number = request.path_params.get("customerNumber")
    if number is not None or response.status_code >= 300:
        return None if number is None else str(number)
    try:
        answer = json.loads(bytes(response.body))
    except ValueError:
        return None
    named = answer.get("externalCustomerReference") if isinstance(answer, dict) else None
    return named if isinstance(named, str) else None


async def _store(claim: _Claim, response: Response, customer_number: str | None) -> None:
    headers = {k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}
    answer = {
        "new_status": response.status_code,
        "new_headers": json.dumps(headers),
        "new_body": claim.seal(bytes(response.body)),
        "new_client_id": claim.client_id,
        "new_customer_number": customer_number,
    }
    await claim.conn.execute(_ANSWER, {**claim.params(), **answer})


class IdempotentRoute(APIRoute):
    """Replays stored answers and stores new ones for routes that declare a guard."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.methods and self.methods <= _READS:
            return handler  # reads are never claimed: no wrapper on their path

        async def idempotent(request: Request) -> Response:
            try:
                response = await handler(request)
            except _Replay as replay:
                return replay.response
            # Still inside the request's transaction: FastAPI ends it after this returns.
            claim = getattr(request.state, "idempotency_claim", None)
            if claim is not None:
                await _store(claim, response, _customer_number(request, response))
            return response

        return idempotent


_PURGE = Sql(
    delete(idempotency_keys)
    .where(
        tuple_(_k.credential_id, _k.idempotency_key).in_(
            select(_k.credential_id, _k.idempotency_key)
            .where(_k.expires_at <= bindparam("now"))
            .limit(bindparam("batch"))
        )
    )
    .returning(_k.credential_id)
)


async def purge_expired(conn: Tx, *, batch: int) -> int:
    """Delete up to ``batch`` records older than the retention; return how many."""
    return len(await conn.fetch(_PURGE, {"now": datetime.now(UTC), "batch": batch}))


_ANSWERS = Sql(select(_k.credential_id, _k.idempotency_key, _k.body).where(_k.body.is_not(None)))
_RESEAL = Sql(update(idempotency_keys).where(_WHERE_KEY).values(body=bindparam("new_body")))


async def reseal(conn: Tx, vault: Vault) -> int:
    """Re-encrypt the stored answers under the key file's current key (``keys rotate``):
    there are a day's worth at most."""
    changed = 0
    for row in await conn.fetch(_ANSWERS):
        claim = _Claim(row["credential_id"], row["idempotency_key"], conn, vault, 0)
        where = claim.context()
        if (body := vault.reseal(bytes(row["body"]).decode(), where)) is not None:
            await conn.execute(_RESEAL, {**claim.params(), "new_body": body.encode()})
            changed += 1
    return changed


_FORGET = Sql(
    delete(idempotency_keys).where(
        _k.client_id == bindparam("client_id"), _k.customer_number == bindparam("customer_number")
    )
)


async def forget_customer(conn: Tx, client_id: int, customer_number: str) -> None:
    """Delete the stored answers about a customer (its erasure): they hold its data."""
    await conn.execute(_FORGET, {"client_id": client_id, "customer_number": customer_number})

"""Console sessions: a random token in an HttpOnly, SameSite=Strict cookie; the database
keeps its SHA-256 only, and the time it expires.

Every form that changes anything carries a CSRF token derived from the session's token
(HMAC), so it needs no storage and dies with the session. The sign-in form, before any
session, uses a double-submit cookie of its own.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, select

from customer_registry.db import Sql, Tx, operator_clients, operator_sessions, operators

_s, _o, _oc = operator_sessions.c, operators.c, operator_clients.c
# No client asked: the coverage join finds nothing (client ids are positive).
NO_CLIENT = 0


def digest(token: str) -> str:
    return hashlib.sha256(token.encode(errors="surrogatepass")).hexdigest()


def new_secret() -> str:
    """A session's token, or a sign-in form's secret: 256 random bits."""
    return secrets.token_urlsafe(32)


def csrf_token(secret: str) -> str:
    """The CSRF token of forms under ``secret`` (a session's token or a sign-in cookie)."""
    return hmac.new(secret.encode(errors="surrogatepass"), b"csrf", "sha256").hexdigest()


def csrf_holds(secret: str | None, token: str | None) -> bool:
    if not secret or not token:
        return False
    expected = csrf_token(secret).encode()
    return hmac.compare_digest(expected, token.encode(errors="surrogatepass"))


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in operator; ``covered``: whether it may see the client the request names."""

    token: str
    operator_id: str
    operator_name: str
    all_clients: bool
    covered: bool
    choosing_password: bool

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


async def start(conn: Tx, operator_id: str, seconds: int) -> str:
    """A new session of the operator: its token, for the cookie."""
    token, now = new_secret(), datetime.now(UTC)
    values = {
        "id": digest(token),
        "operator_id": operator_id,
        "created_at": now,
        "expires_at": now + timedelta(seconds=seconds),
    }
    await conn.execute(sa.insert(operator_sessions).values(values))
    return token


_FIND = Sql(
    select(
        _s.expires_at,
        _o.id,
        _o.name,
        _o.all_clients,
        _o.password_expires_at,
        _oc.client_id.label("covered_client_id"),
    )
    .select_from(
        operator_sessions.join(operators, _o.id == _s.operator_id).outerjoin(
            operator_clients,
            and_(_oc.operator_id == _o.id, _oc.client_id == bindparam("client_id")),
        )
    )
    .where(_s.id == bindparam("id"), _s.expires_at > bindparam("now"))
)


async def find(conn: Tx, token: str, client_id: int = NO_CLIENT) -> Session | None:
    """The unexpired session of ``token``, with its coverage of ``client_id``."""
    params = {"id": digest(token), "client_id": client_id, "now": datetime.now(UTC)}
    row = await conn.fetchrow(_FIND, params)
    return None if row is None else _session(token, row, client_id)


def _session(token: str, row: Any, client_id: int) -> Session:
    all_clients = bool(row["all_clients"])
    return Session(
        token=token,
        operator_id=str(row["id"]),
        operator_name=str(row["name"]),
        all_clients=all_clients,
        covered=client_id == NO_CLIENT or all_clients or row["covered_client_id"] is not None,
        choosing_password=row["password_expires_at"] is not None,
    )


async def end(conn: Tx, token: str) -> None:
    await conn.execute(sa.delete(operator_sessions).where(_s.id == digest(token)))


_PURGE = Sql(
    sa.delete(operator_sessions)
    .where(
        _s.id.in_(
            select(_s.id)
            .where(_s.expires_at <= bindparam("now"))
            .limit(bindparam("batch"))
            .scalar_subquery()
        )
    )
    .returning(_s.id)
)


async def purge_expired(conn: Tx, *, batch: int) -> int:
    """Delete up to ``batch`` expired sessions; return how many."""
    return len(await conn.fetch(_PURGE, {"now": datetime.now(UTC), "batch": batch}))

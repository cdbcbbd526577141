"""Operator accounts: who may use the console, for which clients. The CLI manages them.

Passwords are chosen by people, so unlike the API's random secrets they are hashed with a
memory-hard function: Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
setting: 64 MiB, 3 passes). An account starts with a one-time password that the CLI prints;
it works once, within ``ONE_TIME_HOURS``, to choose the account's own password.
"""

import asyncio
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select

from customer_registry.db import Sql, Tx, operator_clients, operator_sessions, operators

ONE_TIME_HOURS = 24
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_hasher = PasswordHasher()
# Verified when the name is unknown, so that a wrong name takes as long as a wrong password.
_UNKNOWN = _hasher.hash(secrets.token_urlsafe(16))
_o = operators.c


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    name: str
    client_ids: list[int] | None  # None: every client
    created_at: datetime
    one_time_password: bool


def one_time_password() -> str:
    # 20 characters from a 32-letter alphabet: 100 bits, and easy to read aloud.
    return "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20))


async def hash_password(password: str) -> str:
    """The Argon2id hash, computed off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def _verifies(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


async def create_operator(
    conn: Tx, name: str, client_ids: Sequence[int] | None
) -> tuple[str, str] | None:
    """A new operator (``client_ids`` None: for every client): its id and one-time password;
    None when the name is taken."""
    if await conn.fetchval(select(_o.id).where(_o.name == name)) is not None:
        return None
    operator_id, password = str(uuid.uuid4()), one_time_password()
    now = datetime.now(UTC)
    values = {
        "id": operator_id,
        "name": name,
        "password_hash": await hash_password(password),
        "password_expires_at": now + timedelta(hours=ONE_TIME_HOURS),
        "all_clients": client_ids is None,
        "created_at": now,
    }
    await conn.execute(sa.insert(operators).values(values))
    rows = [{"client_id": c, "operator_id": operator_id} for c in sorted(set(client_ids or ()))]
    if rows:
        await conn.executemany(sa.insert(operator_clients), rows)
    return operator_id, password


async def list_operators(conn: Tx) -> list[OperatorInfo]:
    rows = await conn.fetch(
        select(operators, operator_clients.c.client_id)
        .outerjoin(operator_clients, operator_clients.c.operator_id == _o.id)
        .order_by(_o.name, operator_clients.c.client_id)
    )
    found: dict[str, OperatorInfo] = {}
    for row in rows:
        info = found.setdefault(
            row["id"],
            OperatorInfo(
                row["name"],
                None if row["all_clients"] else [],
                row["created_at"],
                row["password_expires_at"] is not None,
            ),
        )
        if info.client_ids is not None and row["client_id"] is not None:
            info.client_ids.append(int(row["client_id"]))
    return list(found.values())


async def _operator_id(conn: Tx, name: str) -> str | None:
    found = await conn.fetchval(select(_o.id).where(_o.name == name))
    return None if found is None else str(found)


async def remove_operator(conn: Tx, name: str) -> bool:
    """Remove the operator; its sessions end at once."""
    operator_id = await _operator_id(conn, name)
    if operator_id is None:
        return False
    for table in (operator_sessions, operator_clients):
        await conn.execute(sa.delete(table).where(table.c.operator_id == operator_id))
    await conn.execute(sa.delete(operators).where(_o.id == operator_id))
    return True


async def reset_password(conn: Tx, name: str) -> str | None:
    """A new one-time password for the operator (None: no such operator); its sessions
    end at once."""
    operator_id = await _operator_id(conn, name)
    if operator_id is None:
        return None
    password = one_time_password()
    expires = datetime.now(UTC) + timedelta(hours=ONE_TIME_HOURS)
    await _set_hash(conn, operator_id, await hash_password(password), expires)
    return password


async def _set_hash(conn: Tx, operator_id: str, password_hash: str, expires: Any) -> None:
    values = {"password_hash": password_hash, "password_expires_at": expires}
    await conn.execute(sa.update(operators).where(_o.id == operator_id).values(values))
    await conn.execute(
        sa.delete(operator_sessions).where(operator_sessions.c.operator_id == operator_id)
    )


async def set_hash(conn: Tx, operator_id: str, password_hash: str) -> None:
    """The operator's own password (``hash_password``) from now on; its sessions end."""
    await _set_hash(conn, operator_id, password_hash, None)


_BY_NAME = Sql(
    select(_o.id, _o.password_hash, _o.password_expires_at).where(_o.name == bindparam("name"))
)


async def authenticate(conn: Tx, name: str, password: str) -> str | None:
    """The id of the operator whose name and password these are; None otherwise, also for
    a one-time password past its time."""
    row = await conn.fetchrow(_BY_NAME, {"name": name})
    if row is None:
        await _verifies(_UNKNOWN, password)
        return None
    if not await _verifies(row["password_hash"], password):
        return None
    expires = row["password_expires_at"]
    if expires is not None and _aware(expires) <= datetime.now(UTC):
        return None
    return str(row["id"])


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

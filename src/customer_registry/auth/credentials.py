"""Credentials: who may call, for which clients. The operator CLI manages them.

A credential covers one or more clients. It carries two secrets, shown once at creation or
rotation and stored only as SHA-256 digests: an OAuth client secret and a subscription key.
The secrets are 256-bit and 128-bit random values, so a fast digest is as strong as a slow
password hash here, and lets every request be checked with one indexed lookup.
"""

import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, literal, or_, select, union_all, update

from customer_registry.db import Tx, credential_clients, credentials, customers
from customer_registry.vault import digest


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    credential_id: str
    oauth_client_id: str
    oauth_client_secret: str
    subscription_key: str
    client_ids: list[int]

    def public(self) -> dict[str, Any]:
        return {
            "oauthClientId": self.oauth_client_id,
            "oauthClientSecret": self.oauth_client_secret,
            "subscriptionKey": self.subscription_key,
            "clientIds": self.client_ids,
        }


async def create_credential(
    conn: Tx,
    client_ids: Sequence[int],
    name: str,
    oauth_client_id: str | None = None,
) -> IssuedCredential:
    """A new credential; ``oauth_client_id`` names a client of an external identity provider."""
    issued = IssuedCredential(
        credential_id=str(uuid.uuid4()),
        oauth_client_id=oauth_client_id or "cr_" + secrets.token_hex(10),
        oauth_client_secret=_new_secret(),
        subscription_key=_new_key(),
        client_ids=sorted(set(client_ids)),
    )
    await conn.execute(
        insert(credentials).values(
            id=issued.credential_id,
            name=name,
            oauth_client_id=issued.oauth_client_id,
            oauth_secret_hash=digest(issued.oauth_client_secret),
            subscription_key_hash=digest(issued.subscription_key),
            created_at=datetime.now(UTC),
        )
    )
    rows = [{"client_id": c, "credential_id": issued.credential_id} for c in issued.client_ids]
    await conn.executemany(insert(credential_clients), rows)
    return issued


async def revoke_credential(conn: Tx, oauth_client_id: str) -> bool:
    """Revoke a credential: its tokens and subscription key stop working at once."""
    stmt = (
        update(credentials)
        .where(credentials.c.oauth_client_id == oauth_client_id, credentials.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(credentials.c.id)
    )
    return await conn.fetchval(stmt) is not None


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _new_key() -> str:
    # 32 hexadecimal characters, the shape of an API gateway's subscription keys.
    return secrets.token_hex(16)


async def rotate_credential(conn: Tx, oauth_client_id: str) -> IssuedCredential | None:
    """New secrets for a credential; the old secret, key and tokens stop working at once."""
    secret, key = _new_secret(), _new_key()
    stmt = (
        update(credentials)
        .where(credentials.c.oauth_client_id == oauth_client_id, credentials.c.revoked_at.is_(None))
        .values(
            oauth_secret_hash=digest(secret),
            subscription_key_hash=digest(key),
            rotated_at=datetime.now(UTC),
            token_generation=credentials.c.token_generation + 1,
        )
        .returning(credentials.c.id)
    )
    credential_id = await conn.fetchval(stmt)
    if credential_id is None:
        return None
    covered = select(credential_clients.c.client_id).where(
        credential_clients.c.credential_id == credential_id
    )
    client_ids = sorted(row[0] for row in await conn.fetch(covered))
    return IssuedCredential(credential_id, oauth_client_id, secret, key, client_ids)


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    oauth_client_id: str
    name: str
    client_ids: list[int]
    created_at: datetime
    revoked_at: datetime | None


async def list_credentials(conn: Tx) -> list[CredentialInfo]:
    rows = await conn.fetch(
        select(credentials, credential_clients.c.client_id)
        .join(credential_clients, credential_clients.c.credential_id == credentials.c.id)
        .order_by(credentials.c.created_at, credential_clients.c.client_id)
    )
    found: dict[str, CredentialInfo] = {}
    for row in rows:
        info = found.setdefault(
            row["id"],
            CredentialInfo(
                row["oauth_client_id"], row["name"], [], row["created_at"], row["revoked_at"]
            ),
        )
        info.client_ids.append(row["client_id"])
    return list(found.values())


async def list_clients(conn: Tx) -> list[tuple[int, int]]:
    """Every client with a credential or a customer, and its number of customers."""
    counted = select(customers.c.client_id, func.count().label("n")).group_by(customers.c.client_id)
    known = select(credential_clients.c.client_id, literal(0).label("n"))
    both = union_all(counted, known).subquery()
    stmt = select(both.c.client_id, func.max(both.c.n)).group_by(both.c.client_id)
    rows = await conn.fetch(stmt.order_by(both.c.client_id))
    return [(row[0], row[1]) for row in rows]


async def oauth_client_ids(conn: Tx) -> dict[str, str]:
    """Every credential's ``oauthClientId`` (the name operators know it by), by its id."""
    rows = await conn.fetch(select(credentials.c.id, credentials.c.oauth_client_id))
    return {row[0]: row[1] for row in rows}


async def labels(conn: Tx, credential_ids: Collection[str]) -> dict[str, str]:
    """How people know these credentials: "name (oauthClientId)", by credential id."""
    if not credential_ids:
        return {}
    c = credentials.c
    rows = await conn.fetch(
        # Equalities, not IN: a statement's values are bound one by one (db/statements.py).
        select(c.id, c.name, c.oauth_client_id).where(or_(*(c.id == i for i in credential_ids)))
    )
    return {row[0]: f"{row[1]} ({row[2]})" for row in rows}

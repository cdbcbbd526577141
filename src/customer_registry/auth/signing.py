"""The keys that sign our access tokens (HS256), sealed in the database by the vault.

The newest key signs; every key still in the table verifies. ``keys rotate-signing`` adds a
key; once the tokens signed by the old one have expired, ``--retire`` deletes it, and every
process stops accepting its tokens within ``RECHECK_SECONDS``.
"""

import itertools
import re
import secrets
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from sqlalchemy import bindparam, delete, insert, select

from customer_registry.db import Sql, Tx, signing_keys
from customer_registry.vault import Vault

# How long a process trusts a key it read: a retired key stops verifying within this time.
RECHECK_SECONDS = 2.0
MAX_TOKEN_BYTES = 8192
_KEY_ID = re.compile(r"[0-9a-f]{16}")

_NEWEST = Sql(
    select(signing_keys.c.kid, signing_keys.c.secret)
    .order_by(signing_keys.c.created_at.desc())
    .limit(1)
)
_SECRET = Sql(select(signing_keys.c.secret).where(signing_keys.c.kid == bindparam("kid")))
_ALL = select(signing_keys).order_by(signing_keys.c.created_at)
_DELETE = delete(signing_keys).where(signing_keys.c.kid == bindparam("kid"))


def _context(kid: str) -> str:
    return f"signing-key/{kid}"


def is_own_key_id(kid: object) -> TypeGuard[str]:
    """Whether ``kid`` has the shape of our key ids (16 hexadecimal digits): anything else,
    NUL bytes and lone surrogates included, never reaches the database."""
    return isinstance(kid, str) and _KEY_ID.fullmatch(kid) is not None


async def add_key(conn: Tx, vault: Vault) -> str:
    """A new signing key, from now on the one that signs; returns its id."""
    kid, secret = secrets.token_hex(8), secrets.token_urlsafe(48)
    sealed = vault.encrypt(secret, _context(kid))
    await conn.execute(
        insert(signing_keys).values(kid=kid, secret=sealed, created_at=datetime.now(UTC))
    )
    return kid


async def signing_key(conn: Tx, vault: Vault) -> tuple[str, str]:
    """The id and secret of the key that signs new tokens (made on first use)."""
    row = await conn.fetchrow(_NEWEST)
    if row is None:
        await add_key(conn, vault)
        row = await conn.fetchrow(_NEWEST)
    return row["kid"], vault.decrypt(row["secret"], _context(row["kid"]))


async def retire_keys(conn: Tx, token_lifetime: timedelta, *, force: bool = False) -> list[str]:
    """Delete the keys no unexpired token can have been signed with: those replaced by a
    newer key at least ``token_lifetime`` ago (with ``force``: every key but the newest)."""
    keys = await conn.fetch(_ALL)
    cutoff = datetime.now(UTC) - token_lifetime
    retired = [
        older["kid"]
        for older, newer in itertools.pairwise(keys)
        if force or _utc(newer["created_at"]) <= cutoff
    ]
    if retired:
        await conn.executemany(_DELETE, [{"kid": kid} for kid in retired])
    return retired


async def reseal_keys(conn: Tx, vault: Vault) -> int:
    """Seal every signing key with the vault's current key (``keys rotate``)."""
    done = 0
    for row in await conn.fetch(_ALL):
        resealed = vault.reseal(row["secret"], _context(row["kid"]))
        if resealed is not None:
            stmt = signing_keys.update().where(signing_keys.c.kid == row["kid"])
            await conn.execute(stmt.values(secret=resealed))
            done += 1
    return done


def _utc(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment.replace(tzinfo=moment.tzinfo or UTC)


class VerificationKeys:
    """The secrets of the keys that verify, as this process last read them."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._read: dict[str, tuple[str, float]] = {}

    async def secret(self, conn: Tx, kid: str) -> str | None:
        """The secret of key ``kid``; None once it is retired (or never existed)."""
        known = self._read.get(kid)
        now = time.monotonic()
        if known is not None and now - known[1] < RECHECK_SECONDS:
            return known[0]
        sealed = await conn.fetchval(_SECRET, {"kid": kid})
        if sealed is None:
            self._read.pop(kid, None)
            return None
        secret = self._vault.decrypt(sealed, _context(kid))
        self._read[kid] = (secret, now)
        return secret


class VerifiedTokens:
    """The claims of tokens whose signature held, the most recently used kept, at most
    ``max_bytes`` of tokens: a client sends the same token for a day, and verifying its
    signature is most of the CPU an authenticated request costs. Only verified tokens
    enter, so forged or oversized ones cannot crowd out real ones."""

    def __init__(self, max_bytes: int = 4 * 1024 * 1024) -> None:
        self._claims: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes

    def get(self, token: str) -> tuple[str, dict[str, Any]] | None:
        """The key id and claims of a verified ``token``."""
        found = self._claims.get(token)
        if found is not None:
            self._claims.move_to_end(token)
        return found

    def add(self, token: str, kid: str, claims: dict[str, Any]) -> None:
        if token in self._claims:
            return
        self._claims[token] = (kid, claims)
        self._bytes += len(token)
        while self._bytes > self._max_bytes:
            oldest, _ = self._claims.popitem(last=False)
            self._bytes -= len(oldest)

"""Personal data at rest: AES-256-GCM encryption and keyed blind indexes (HMAC-SHA256).

The keys live in a JSON key file, created on first use with mode 0600::

    {"current": "<kid>", "keys": {"<kid>": "<base64 key>", ...}, "index_key": "<base64 key>"}

Every ciphertext names the key that made it (``<kid>.<base64url(nonce | ciphertext)>``), so
keys can rotate while old values stay readable; the associated data binds each value to its
client, customer and field, so a ciphertext copied into another row does not decrypt. The
blind-index key never rotates: it only makes equality search possible without plaintext, and
each client's indexes use a key derived from it for that client (HKDF), so the same national
ID has unrelated indexes in two clients and a database reader cannot link people across them.

Customers' personal data is encrypted under a data key per customer (``DataKey``), which the
key file's key wraps: rotating re-wraps the data keys, and retiring an old key makes every
copy of what it wrapped unreadable (docs/privacy.md).

The database records a check value of every key (``check_values``): a replica whose key file
lacks a key or holds another key under the same id refuses to start (see ``key_checks``).
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from customer_registry.errors import ConfigurationError

_NONCE_BYTES = 12
_CHECKED = b"customer-registry key check value"
INDEX_KEY_ID = "index"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key() -> str:
    return _b64(secrets.token_bytes(32))


def digest(secret: str) -> str:
    """The SHA-256 of a random secret of ours: a credential's secrets are stored only so
    (256 and 128 random bits make a fast digest as strong as a slow one)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Vault:
    """The keys of one key file. Nothing is read until ``load`` or ``open``: whether a
    missing key file may be created depends on the database (``key_checks.open_vault``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._checked_at = 0.0
        self._mtime = -1
        self._raw: dict[str, bytes] = {}
        self._keys: dict[str, AESGCM] = {}
        self.current = ""
        self._index_key = b""
        self._data_keys = lru_cache(maxsize=4096)(self._unwrapped)

    @classmethod
    def open(cls, path: Path) -> "Vault":
        """The vault of ``path``, creating the key file when there is none."""
        vault = cls(path)
        vault.create()
        return vault

    def create(self) -> None:
        """Load the key file, creating it first when there is none."""
        if not self.path.exists():
            _create_key_file(self.path, {"current": "k1", "keys": {"k1": _new_key()}})
        self.load()

    def load(self) -> None:
        try:
            self._mtime = self.path.stat().st_mtime_ns
            data = json.loads(self.path.read_text())
            self._raw = {kid: _unb64(key) for kid, key in data["keys"].items()}
            self.current = data["current"]
            self._index_key = _unb64(data["index_key"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"cannot read the key file {self.path}: {exc}") from exc
        self._keys = {kid: AESGCM(key) for kid, key in self._raw.items()}
        if self.current not in self._keys:
            raise ConfigurationError(f"key file {self.path}: current key {self.current!r} missing")

    def refresh(self) -> None:
        """Read the key file again if it changed: another process rotated or an operator
        replaced it."""
        if self.path.stat().st_mtime_ns != self._mtime:
            self.load()

    def check_values(self) -> dict[str, str]:
        """A value per key id that tells whether two key files hold the same key under it,
        and reveals nothing of the key; the blind-index key's is under ``INDEX_KEY_ID``."""
        keys = {**self._raw, INDEX_KEY_ID: self._index_key}
        return {
            kid: hmac.new(key, _CHECKED, hashlib.sha256).hexdigest() for kid, key in keys.items()
        }

    def encrypt(self, value: str, context: str) -> str:
        return self.wrap(value.encode(), context)

    def decrypt(self, token: str, context: str) -> str:
        return self.unwrap(token, context).decode()

    def wrap(self, plain: bytes, context: str) -> str:
        """``plain`` encrypted under the current key: ``<kid>.<base64url(nonce | sealed)>``."""
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            # At most once a second: a rotated key is used within a second, without a
            # stat() for every value written.
            self._checked_at = now
            self.refresh()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, plain, context.encode())
        return f"{self.current}.{_b64(nonce + sealed)}"

    def unwrap(self, token: str, context: str) -> bytes:
        kid, _, payload = token.partition(".")
        if kid not in self._keys:
            self.load()  # another process rotated keys since this one read the file
        raw = _unb64(payload)
        try:
            return self._keys[kid].decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (KeyError, InvalidTag) as exc:
            raise ConfigurationError(
                f"a stored value cannot be decrypted with key {kid!r}"
            ) from exc

    def reseal(self, token: str, context: str) -> str | None:
        """The value encrypted with the current key; None when it already is."""
        if token.partition(".")[0] == self.current:
            return None
        return self.wrap(self.unwrap(token, context), context)

    def new_data_key(self, context: str) -> str:
        """A new data key (``DataKey``), wrapped under the current key."""
        return self.wrap(secrets.token_bytes(32), context)

    def data_key(self, wrapped: str, context: str) -> "DataKey":
        """The data key ``wrapped`` holds. Kept for reuse: a request unwraps each data key
        once, not once per value (the wrapped form and its context name it)."""
        return self._data_keys(wrapped, context)

    def _unwrapped(self, wrapped: str, context: str) -> "DataKey":
        return DataKey(self.unwrap(wrapped, context))

    def blind_index(self, value: str, client_id: int) -> str:
        """The index of ``value`` among ``client_id``'s customers."""
        return client_index(
            _client_index_key(self._index_key, client_id), self.tenantless_index(value)
        )

    def tenantless_index(self, value: str) -> str:
        """The index every client shared before indexes were per client (migration 0005)."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def client_index_key(self, client_id: int) -> bytes:
        return _client_index_key(self._index_key, client_id)

    def add(self) -> str:
        """Add a new key without using it yet (see ``rotate``); returns its id."""
        data = json.loads(self.path.read_text())
        # After the newest, never a retired one's number: old backups name retired keys.
        kid = f"k{_number(_newest(data)) + 1}"
        data["keys"][kid] = _new_key()
        _replace_key_file(self.path, data)
        self.load()
        return kid

    def rotate(self) -> str:
        """Make the newest key current, adding one first unless the newest was added but
        not used yet; returns its id."""
        data = json.loads(self.path.read_text())
        newest = _newest(data)
        if newest == data["current"]:
            newest = self.add()
            data = json.loads(self.path.read_text())
        data["current"] = newest
        _replace_key_file(self.path, data)
        self.load()
        return newest

    def retire(self) -> list[str]:
        """Delete the keys older than the current one from the key file; returns their ids.
        Only once nothing is sealed under them (``keys retire`` re-encrypts first)."""
        data = json.loads(self.path.read_text())
        current = _number(data["current"])
        retired = [kid for kid in data["keys"] if _number(kid) < current]
        if retired:
            data["keys"] = {k: v for k, v in data["keys"].items() if k not in retired}
            _replace_key_file(self.path, data)
            self.load()
        return retired


def _number(kid: str) -> int:
    return int(kid.lstrip("k") or 0)


def _newest(data: dict[str, Any]) -> str:
    return str(max(data["keys"], key=_number))


def client_index(client_key: bytes, tenantless: str) -> str:
    """A client's blind index from the tenantless one: migration 0005 derives it without
    decrypting anything."""
    return hmac.new(client_key, tenantless.encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=4096)
def _client_index_key(index_key: bytes, client_id: int) -> bytes:
    info = f"customer-registry blind index, client {client_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(index_key)


def _create_key_file(path: Path, data: dict[str, object]) -> None:
    data = {**data, "index_key": _new_key()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; use theirs
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the key file {path} (CUSTOMER_REGISTRY_KEY_FILE): {exc.strerror}"
        ) from exc
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)


def _replace_key_file(path: Path, data: dict[str, object]) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)


DATA_SEALED = "dk."


class DataKey:
    """One customer's key (crypto-shredding): its sealed values are encrypted under it, and it
    is stored wrapped by the key file's current key. Erasure deletes it: what it sealed, in
    any copy, is unreadable once the key file's key that wrapped it is retired."""

    __slots__ = ("_aead",)

    def __init__(self, raw: bytes) -> None:
        self._aead = AESGCM(raw)

    def seal(self, value: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return DATA_SEALED + _b64(nonce + sealed)

    def open(self, token: str, context: str) -> str:
        raw = _unb64(token.removeprefix(DATA_SEALED))
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                "a stored value cannot be decrypted with its customer's data key"
            ) from exc
        return plain.decode()

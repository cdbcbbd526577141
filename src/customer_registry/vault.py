"""Personal data at rest: AES-256-GCM encryption and keyed blind indexes (HMAC-SHA256).

The keys live in a JSON key file, created on first use with mode 0600::

    {"current": "<kid>", "keys": {"<kid>": "<base64 key>", ...}, "index_key": "<base64 key>"}

Every ciphertext names the key that made it (``<kid>.<base64url(nonce | ciphertext)>``), so
keys can rotate while old values stay readable; the associated data binds each value to its
client, customer and field, so a ciphertext copied into another row does not decrypt. The
blind-index key never rotates: it only makes equality search possible without plaintext.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from customer_registry.errors import ConfigurationError

_NONCE_BYTES = 12


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_key() -> str:
    return _b64(secrets.token_bytes(32))


class Vault:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._checked_at = 0.0
        self._load()

    @classmethod
    def open(cls, path: Path) -> "Vault":
        """The vault of ``path``, creating the key file when there is none."""
        if not path.exists():
            _create_key_file(path, {"current": "k1", "keys": {"k1": _new_key()}})
        return cls(path)

    def _load(self) -> None:
        try:
            self._mtime = self.path.stat().st_mtime_ns
            data = json.loads(self.path.read_text())
            self._keys = {kid: AESGCM(_unb64(key)) for kid, key in data["keys"].items()}
            self.current: str = data["current"]
            self._index_key = _unb64(data["index_key"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"cannot read the key file {self.path}: {exc}") from exc
        if self.current not in self._keys:
            raise ConfigurationError(f"key file {self.path}: current key {self.current!r} missing")

    def encrypt(self, value: str, context: str) -> str:
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            # At most once a second: a rotated key is used within a second, without a
            # stat() for every value written.
            self._checked_at = now
            if self.path.stat().st_mtime_ns != self._mtime:
                self._load()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, value.encode(), context.encode())
        return f"{self.current}.{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        kid, _, payload = token.partition(".")
        if kid not in self._keys:
            self._load()  # another process rotated keys since this one read the file
        raw = _unb64(payload)
        try:
            plain = self._keys[kid].decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
            )
        except (KeyError, InvalidTag) as exc:
            raise ConfigurationError(
                f"a stored value cannot be decrypted with key {kid!r}"
            ) from exc
        return plain.decode()

    def reseal(self, token: str, context: str) -> str | None:
        """The value encrypted with the current key; None when it already is."""
        if token.partition(".")[0] == self.current:
            return None
        return self.encrypt(self.decrypt(token, context), context)

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()[:32]

    def rotate(self) -> str:
        """Add a new key and make it current; returns its id."""
        data = json.loads(self.path.read_text())
        kid = f"k{len(data['keys']) + 1}"
        data["keys"][kid] = _new_key()
        data["current"] = kid
        _replace_key_file(self.path, data)
        self._load()
        return kid


def _create_key_file(path: Path, data: dict[str, object]) -> None:
    data = {**data, "index_key": _new_key()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; use theirs
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

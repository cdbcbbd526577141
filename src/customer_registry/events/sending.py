"""One webhook request, as the Standard Webhooks specification has it.

Headers ``webhook-id`` (the event id: receivers de-duplicate by it), ``webhook-timestamp``
(seconds since the epoch) and ``webhook-signature: v1,<base64 HMAC-SHA256>`` of
``<id>.<timestamp>.<body>`` under the endpoint's secret (``whsec_<base64 key>``). A 2xx answer
is a delivery; anything else, a timeout or a refused connection is a failure to retry.
"""

import base64
import hashlib
import hmac
import secrets
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Self

import httptools

from customer_registry.events import targets
from customer_registry.events.http_client import Client, Origin, request_bytes

SECRET_PREFIX = "whsec_"
_HEADERS = {"User-Agent": "customer-registry-webhooks/1", "Content-Type": "application/json"}
_ERROR_LENGTH = 200
# A receiver's checked addresses are reused this long: not a name lookup per event.
_RESOLVED_SECONDS = 60.0


def new_secret() -> str:
    """A signing secret: 32 random bytes, base64, with the specification's prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


# An endpoint's URL is parsed once, not per event (a refused one is not remembered).
_parsed = lru_cache(maxsize=1024)(targets.parse)


@dataclass(frozen=True, slots=True)
class Sent:
    """How one attempt went. ``receiver_down``: the receiver failed as a whole (no
    connection, a timeout, 5xx, 408, 429), not this one event: stop sending it more."""

    delivered: bool
    error: str | None = None
    receiver_down: bool = False


def _answered(status: int) -> Sent:
    if 200 <= status < 300:
        return Sent(True)
    return Sent(False, f"answered {status}", status >= 500 or status in (408, 429))


def _failed(exc: BaseException) -> Sent:
    reason = "no answer in time" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}"
    detail = "" if isinstance(exc, TimeoutError) else f": {exc}"
    return Sent(False, f"{reason}{detail}"[:_ERROR_LENGTH], True)


class Sender:
    """Sends webhooks over kept-alive connections, to checked addresses only."""

    def __init__(
        self, *, timeout: float, allow_private: bool, tls: ssl.SSLContext | None = None
    ) -> None:
        self._allow_private = allow_private
        self._client = Client(timeout=timeout, tls=tls)
        self._resolved: dict[tuple[str, int], tuple[float, list[targets.IPAddress]]] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.__aexit__(kind, exc, tb)

    async def _addresses(self, target: targets.Target) -> list[targets.IPAddress]:
        """``targets.addresses``, remembered a minute (a refusal is not remembered)."""
        key = (target.host, target.port)
        known = self._resolved.get(key)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        found = await targets.addresses(target, allow_private=self._allow_private)
        if len(self._resolved) > 1000:
            self._resolved.clear()
        self._resolved[key] = (time.monotonic() + _RESOLVED_SECONDS, found)
        return found

    async def _origin(self, target: targets.Target) -> Origin:
        """To the address checked, under the URL's name (Host header, TLS server name)."""
        found = await self._addresses(target)
        address = str(found[0]) if found else target.host
        return Origin(target.scheme, address, target.port, target.host, target.netloc)

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> Sent:
        timestamp = int(time.time())
        headers = {
            **_HEADERS,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body),
        }
        try:
            target = _parsed(url, allow_private=self._allow_private)
            origin = await self._origin(target)
            request = request_bytes(origin, target.path, headers, body)
            status = await self._client.post(origin, request)
        except targets.TargetRefused as exc:
            return Sent(False, f"refused: {exc}"[:_ERROR_LENGTH], True)
        except (OSError, TimeoutError, httptools.HttpParserError) as exc:
            return _failed(exc)
        return _answered(status)

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
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from customer_registry.events import targets

SECRET_PREFIX = "whsec_"
_USER_AGENT = "customer-registry-webhooks/1"
_MAX_ANSWER_BYTES = 64 * 1024
_ERROR_LENGTH = 200
# A receiver's checked addresses are reused this long: not a name lookup per event.
_RESOLVED_SECONDS = 60.0


def new_secret() -> str:
    """A signing secret: 32 random bytes, base64, with the specification's prefix."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


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


class Sender:
    """Sends webhooks over kept-alive connections, to checked addresses only."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._http = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, headers={"user-agent": _USER_AGENT}
        )
        self._resolved: dict[tuple[str, int], tuple[float, list[targets.IPAddress]]] = {}

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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def _request(self, url: str, headers: dict[str, str], body: bytes) -> httpx.Request:
        target = targets.parse(url, allow_private=self._allow_private)
        found = await self._addresses(target)
        if not found:
            return self._http.build_request("POST", url, headers=headers, content=body)
        # To the address checked, under the URL's name (Host header, TLS server name).
        pinned = httpx.URL(url).copy_with(host=str(found[0]))
        headers["host"] = httpx.URL(url).netloc.decode()
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return self._http.build_request(
            "POST", pinned, headers=headers, content=body, extensions=extensions
        )

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> Sent:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body),
        }
        try:
            request = await self._request(url, headers, body)
            response = await self._http.send(request, stream=True)
        except targets.TargetRefused as exc:
            return Sent(False, f"refused: {exc}"[:_ERROR_LENGTH], True)
        except httpx.HTTPError as exc:
            return Sent(False, f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH], True)
        try:
            await _drain(response)
        except httpx.HTTPError:
            pass  # the status counts; an answer cut short only costs its connection
        finally:
            await response.aclose()
        return _answered(response.status_code)


async def _drain(response: httpx.Response) -> None:
    """Read (and drop) a small answer, so its connection is kept; a large one is not read."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > _MAX_ANSWER_BYTES:
            return

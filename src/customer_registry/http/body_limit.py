"""Every request body is read whole, bounded in size and in time, before the app sees it.

A route may take a database connection (on SQLite: the write lock) before it reads its body,
and a client that sends half a body and then nothing would hold that connection until its
socket closed. Read here, in front of every route, a body that is too large is refused
without being read further (413), one that does not arrive within the configured time is
refused and its connection closed (408), and the app only ever sees a complete body.
"""

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customer_registry.errors import (
    AppError,
    InvalidParameter,
    PayloadTooLarge,
    RequestInvalid,
    RequestTimeout,
)
from customer_registry.http.problems import render

# No route reads a body on these: nothing to wait for.
_WITHOUT_BODY = frozenset({"GET", "HEAD"})


class _Refused(Exception):
    def __init__(self, error: AppError) -> None:
        self.error = error


class BoundedBody:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request bodies are limited to {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        declared = Request(scope).headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _Refused(self._too_large())
            body = await self._read(receive)
        except _Refused as refused:
            await render(Request(scope), refused.error)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._chunks(receive)
        except TimeoutError:
            seconds = f"{self.timeout_seconds:g}"
            raise _Refused(
                RequestTimeout(f"the request body took longer than {seconds} s")
            ) from None

    async def _chunks(self, receive: Receive) -> bytes:
        # Chunked bodies carry no length up front: count while reading.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                reason = "the client went away before sending all of it"
                raise _Refused(RequestInvalid([InvalidParameter("body", reason)]))
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                raise _Refused(self._too_large())
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message; after it, the server's own messages (a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed

"""A real HTTP receiver on 127.0.0.1 for webhook tests: records what arrives, answers as told.

A few lines of HTTP/1.1 on asyncio streams (keep-alive, Content-Length bodies): enough for
the deliverer's requests, and it runs in the test's own event loop.
"""

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def event(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


Answer = Callable[[Received], int]  # a request (its status still 0) -> the status to answer


def _always_ok(_: Received) -> int:
    return 204


class Receiver:
    def __init__(self, answer: Answer = _always_ok, *, delay: float = 0.0) -> None:
        self.answer = answer
        self.delay = delay
        self.received: list[Received] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        # Its own path: a delivery meant for another test's receiver that had this port is
        # answered 404 and not recorded.
        self.path = f"/hook/{secrets.token_hex(4)}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{self.path}"

    def delivered(self) -> list[dict[str, Any]]:
        """The events answered with 2xx, in arrival order."""
        return [r.event() for r in self.received if 200 <= r.status < 300]

    async def wait_for(self, done: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"after {timeout} s, {len(self.received)} requests received")
            await asyncio.sleep(0.02)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while request := await _read(reader):
                path, headers, body = request
                if self.delay:
                    await asyncio.sleep(self.delay)
                status = 404
                if path == self.path:
                    status = self.answer(Received(headers, body, 0))
                    self.received.append(Received(headers, body, status))
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()


async def _read(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    path = line.decode().split(" ")[1]
    headers = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return path, headers, body

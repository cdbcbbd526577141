"""HTTP/1.1 POSTs on asyncio streams, answers read by httptools (llhttp, uvicorn's parser).

Webhooks are one small POST per event, all day: an httpx client kept open per endpoint costs
about 17 times this one's CPU per event (``bench/webhook_client.py``; docs/decisions.md,
"Webhook HTTP client"). This client does what delivery needs and no more: keep-alive
connections per origin (a stale one that fails before any answer is replaced once), TLS with
the system's trust store and a given server name, answers framed by length, chunks or close,
their bodies read up to 64 KiB and dropped. No redirects, proxies, cookies, compression or
HTTP/2.
"""

import asyncio
import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httptools

MAX_ANSWER_BYTES = 64 * 1024
_IDLE_PER_ORIGIN = 4


@dataclass(frozen=True, slots=True)
class Origin:
    """Where to connect (an address, or a name when any address is allowed), and the name
    the server is asked for in TLS and in ``Host``."""

    scheme: str
    address: str
    port: int
    server_name: str
    host_header: str


class _Answer:
    """httptools' callbacks: the final answer's status, whether the connection stays."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.keep_alive = False
        self.headers_done = False
        self.complete = False
        self.body_bytes = 0

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self.headers_done = self.status >= 200

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.complete = self.status >= 200  # a 1xx answer is followed by the real one


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> _Answer:
        """Send ``request``; the answer once it is read (``keep_alive`` False: close)."""
        self.writer.write(request)
        await self.writer.drain()
        answer = _Answer()
        while not answer.complete:
            data = await self.reader.read(65536)
            if not data:
                if answer.headers_done:  # framed by the close
                    answer.keep_alive = False
                    return answer
                raise ConnectionResetError("the connection closed before an answer")
            answer.parser.feed_data(data)
            if answer.body_bytes > MAX_ANSWER_BYTES:
                answer.keep_alive = False  # not worth reading: the status is known
                return answer
        return answer

    def close(self) -> None:
        self.writer.close()


def request_bytes(origin: Origin, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {origin.host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Client:
    """POSTs with a deadline each, over connections kept per origin."""

    def __init__(self, *, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self._tls = tls or ssl.create_default_context()
        self._idle: dict[Origin, list[_Connection]] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _open(self, origin: Origin) -> _Connection:
        tls = self._tls if origin.scheme == "https" else None
        name = origin.server_name if tls else None
        reader, writer = await asyncio.open_connection(
            origin.address, origin.port, ssl=tls, server_hostname=name
        )
        return _Connection(reader, writer)

    async def _exchange(self, origin: Origin, request: bytes) -> tuple[_Connection, _Answer]:
        idle = self._idle.get(origin)
        if idle:
            kept = idle.pop()
            try:
                return kept, await kept.exchange(request)
            except (ConnectionError, asyncio.IncompleteReadError):
                kept.close()  # closed by the server while idle: once more on a new one
            except BaseException:
                kept.close()
                raise
        connection = await self._open(origin)
        try:
            return connection, await connection.exchange(request)
        except BaseException:
            connection.close()
            raise

    async def post(self, origin: Origin, request: bytes) -> int:
        """The status of the answer to ``request`` (``request_bytes``); raises OSError,
        TimeoutError or httptools.HttpParserError when there is none."""
        async with asyncio.timeout(self.timeout):
            connection, answer = await self._exchange(origin, request)
        idle = self._idle.setdefault(origin, [])
        if answer.keep_alive and len(idle) < _IDLE_PER_ORIGIN:
            idle.append(connection)
        else:
            connection.close()
        return answer.status

"""The deliverer's HTTP/1.1 client against servers that answer in each way HTTP allows."""

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from customer_registry.events.http_client import MAX_ANSWER_BYTES, Client, Origin, request_bytes
from customer_registry.events.sending import Sender

Answer = Callable[[int], bytes]  # the request's number on its connection -> the answer


@asynccontextmanager
async def _server(
    answer: Answer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server answering each request with ``answer``; yields its port and what came."""
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count = 0
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                received.append(head + await reader.readexactly(length))
                writer.write(answer(count))
                await writer.drain()
                count += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    async with server:
        yield server.sockets[0].getsockname()[1], received


def _origin(port: int, scheme: str = "http", name: str = "127.0.0.1") -> Origin:
    return Origin(scheme, "127.0.0.1", port, name, f"{name}:{port}")


async def _post(client: Client, origin: Origin, body: bytes = b"{}") -> int:
    return await client.post(origin, request_bytes(origin, "/hook?a=1", {"X-A": "1"}, body))


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200),
        (b"HTTP/1.1 202 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 202),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 OK\r\nContent-Length: 0\r\n\r\n", 201),
        (b"HTTP/1.1 410 Gone\r\nContent-Length: 4\r\n\r\ngone", 410),
    ],
)
async def test_framed_answers_keep_the_connection(answer: bytes, status: int) -> None:
    connections = 0

    def counted(count: int) -> bytes:
        nonlocal connections
        connections += count == 0
        return answer

    async with _server(counted) as (port, received), Client(timeout=5) as client:
        statuses = [await _post(client, _origin(port)) for _ in range(3)]

    assert statuses == [status] * 3
    assert connections == 1
    assert len(received) == 3
    assert received[0].startswith(b"POST /hook?a=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert received[0].endswith(b"X-A: 1\r\nContent-Length: 2\r\n\r\n{}")


async def test_an_answer_framed_by_closing_the_connection_counts() -> None:
    async def close_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Busy\r\n\r\nbody until the end")
        writer.close()

    server = await asyncio.start_server(close_after, "127.0.0.1", 0)
    async with server, Client(timeout=5) as client:
        port = server.sockets[0].getsockname()[1]
        assert await _post(client, _origin(port)) == 503
        assert await _post(client, _origin(port)) == 503  # a new connection each time


async def test_a_large_answer_is_not_read_to_its_end() -> None:
    big = b"x" * (4 * MAX_ANSWER_BYTES)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big
    async with _server(lambda _: answer) as (port, _), Client(timeout=5) as client:
        assert await _post(client, _origin(port)) == 200
        assert await _post(client, _origin(port)) == 200


async def test_a_kept_connection_the_server_closed_is_replaced_once() -> None:
    def once_per_connection(count: int) -> bytes:
        if count:
            raise ConnectionResetError  # the server drops the connection instead
        return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    async with _server(once_per_connection) as (port, received), Client(timeout=5) as client:
        statuses = [await _post(client, _origin(port)) for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(received) == 5  # the second and third went out twice: once on a dead one


async def test_a_slow_answer_times_out() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # until the client gives up and closes
        finally:
            writer.close()

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    async with server, Client(timeout=0.2) as client:
        with pytest.raises(TimeoutError):
            await _post(client, _origin(server.sockets[0].getsockname()[1]))


def _certificate(directory: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for ``name``, and a client context
    that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    client = ssl.create_default_context(cafile=str(directory / "cert.pem"))
    return server, client


async def test_tls_to_a_pinned_address_checks_the_urls_name(tmp_path: Path) -> None:
    server_tls, client_tls = _certificate(tmp_path, "receiver.test")
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    async with (
        _server(lambda _: ok, server_tls) as (port, received),
        Client(timeout=5, tls=client_tls) as client,
    ):
        status = await _post(client, _origin(port, "https", "receiver.test"))
        with pytest.raises(ssl.SSLCertVerificationError):
            await _post(client, _origin(port, "https", "other.test"))

    assert status == 200
    assert f"Host: receiver.test:{port}".encode() in received[0]


async def test_the_sender_reports_a_failed_tls_handshake_as_a_failure(tmp_path: Path) -> None:
    server_tls, _ = _certificate(tmp_path, "receiver.test")
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    async with (
        _server(lambda _: ok, server_tls) as (port, _),
        Sender(timeout=5, allow_private=True) as sender,
    ):
        sent = await sender.send(f"https://127.0.0.1:{port}/h", "whsec_MDEy", "evt_1", b"{}")

    assert not sent.delivered
    assert sent.receiver_down
    assert "SSLCertVerificationError" in str(sent.error)

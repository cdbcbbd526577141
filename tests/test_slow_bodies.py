"""A body that arrives slowly, or never, holds no database connection or lock, and times out."""

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from customer_registry.auth import credentials
from tests.conftest import running_server
from tests.horizon.conftest import customer_url, person
from tests.subscriptions.conftest import CUSTOMERS

pytestmark = pytest.mark.slow  # real server processes

_FORM = "application/x-www-form-urlencoded"


@contextmanager
def _half_sent(base: str, method: str, path: str, content_type: str) -> Iterator[socket.socket]:
    """A connection that sends the headers and 10 of the 200 bytes of its body, then stalls."""
    port = urlsplit(base).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: registry\r\nContent-Type: {content_type}\r\n"
            "Content-Length: 200\r\n\r\n"
        )
        sock.sendall(head.encode() + b"grant_type")
        yield sock


def _received_so_far(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""
    finally:
        sock.setblocking(True)


def _read_to_end(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


async def test_a_half_sent_token_request_holds_up_no_other_request(
    database_url: str,
    key_file: Path,
    tmp_path: Path,
    credential: credentials.IssuedCredential,
    client_id: int,
) -> None:
    # One worker with one database connection: a request holding it would stop every other.
    with (
        running_server(
            database_url,
            key_file,
            tmp_path,
            workers=1,
            CUSTOMER_REGISTRY_DB_POOL_SIZE="1",
            CUSTOMER_REGISTRY_BODY_TIMEOUT_SECONDS="120",
        ) as base,
        _half_sent(base, "POST", "/oauth/token", _FORM) as stalled,
    ):
        await asyncio.sleep(0.5)  # the stalled request has reached the app
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            token = await http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": credential.oauth_client_id,
                    "client_secret": credential.oauth_client_secret,
                },
            )
            written = await http.put(
                customer_url(client_id, "c1"),
                json=person(),
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )

        assert token.status_code == 200
        assert written.status_code == 200
        assert _received_so_far(stalled) == b""  # still waiting for the rest of its body


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/oauth/token", _FORM),
        ("PUT", customer_url(1, "c1"), "application/json"),
        ("POST", CUSTOMERS, "application/json"),
    ],
)
def test_a_body_that_does_not_arrive_in_time_is_a_408_and_the_connection_closes(
    database_url: str, key_file: Path, tmp_path: Path, method: str, path: str, content_type: str
) -> None:
    with (
        running_server(
            database_url,
            key_file,
            tmp_path,
            workers=1,
            CUSTOMER_REGISTRY_BODY_TIMEOUT_SECONDS="0.5",
        ) as base,
        _half_sent(base, method, path, content_type) as stalled,
    ):
        answer = _read_to_end(stalled)  # the server closes the connection after its answer

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert b'"type":"/problems/request-timeout"' in body

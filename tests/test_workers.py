"""``serve --workers N``: every worker takes a share of the connections; the port is its own."""

import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.slow,  # real server processes
    pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT balances on Linux"),
]


def _owners(state: str, port: int) -> Counter[str]:
    """How many sockets of ``port`` in ``state`` each server process holds."""
    listing = subprocess.run(
        ["ss", "-tnpH", "state", state, f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Counter(re.findall(r"pid=(\d+)", listing))


def _wait_for_listeners(port: int, count: int) -> None:
    """The server is healthy once one worker answers; the others may still be starting."""
    deadline = time.monotonic() + 30
    while len(_owners("listening", port)) < count:
        assert time.monotonic() < deadline, "the workers did not all start listening"
        time.sleep(0.1)


def test_a_burst_of_keep_alive_connections_is_spread_over_both_workers(server: str) -> None:
    port = urlsplit(server).port
    assert port is not None
    _wait_for_listeners(port, 2)
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: registry\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        owners = _owners("established", port)
    finally:
        for connection in connections:
            connection.close()

    # The kernel hashes connections over the workers' sockets: all 32 on one worker has a
    # chance of 2 in 2^32. With one shared socket, one worker usually took them all.
    assert len(owners) == 2, owners
    assert sum(owners.values()) == 32


def test_a_second_server_on_the_same_port_refuses_to_start(
    server: str, env: dict[str, str], tmp_path: Path
) -> None:
    port = str(urlsplit(server).port)
    second = subprocess.run(
        [sys.executable, "-m", "customer_registry", "serve", "--port", port, "--workers", "2"],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 3
    assert f"Address already in use while binding to 127.0.0.1:{port}" in second.stderr

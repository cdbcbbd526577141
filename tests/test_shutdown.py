"""SIGTERM stops a busy server gracefully: requests under way are answered in full.

Clients keep sending requests while the master is told to stop. After that, a request may
find the server gone (a connection error before any answer, which a client retries), but
none that got an answer may get a 5xx or lose the rest of its body, and the server must
exit on its own within a generous bound.
"""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from customer_registry.auth.credentials import IssuedCredential
from tests.conftest import load, start_server

pytestmark = pytest.mark.slow  # a real server process

CLIENTS = 4
EXIT_BOUND_SECONDS = 15


@dataclass
class Outcomes:
    stopping: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    answered: list[int] = field(default_factory=list)
    refused_while_running: list[str] = field(default_factory=list)
    cut_off: list[str] = field(default_factory=list)

    def no_answer(self, error: httpx.TransportError) -> None:
        if not self.stopping.is_set():
            self.refused_while_running.append(repr(error))
        else:
            time.sleep(0.05)  # the server is going: do not spin

    def warmed_up(self) -> bool:
        return len(self.answered) >= 10 * CLIENTS


@pytest.fixture
def server_process(
    database_url: str, key_file: Path, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    process, base = start_server(database_url, key_file, tmp_path)
    try:
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _one_request(http: httpx.Client, path: str, number: int, outcomes: Outcomes) -> None:
    body = load("horizon_put_request.json")
    body["email"] = f"busy{number}@example.com"
    request = (
        http.build_request("PUT", path, json=body)
        if number % 2
        else http.build_request("GET", path)
    )
    try:
        response = http.send(request, stream=True)
    except httpx.TransportError as error:
        outcomes.no_answer(error)
        return
    try:
        response.read()
    except httpx.TransportError as error:
        outcomes.cut_off.append(repr(error))
        return
    finally:
        response.close()
    outcomes.answered.append(response.status_code)


def _busy_client(base: str, token: str, path: str, outcomes: Outcomes) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        number = 0
        while not outcomes.done.is_set():
            number += 1
            _one_request(http, path, number, outcomes)


def _token(base: str, issued: IssuedCredential) -> str:
    secrets = {"client_id": issued.oauth_client_id, "client_secret": issued.oauth_client_secret}
    response = httpx.post(
        f"{base}/oauth/token", data={"grant_type": "client_credentials", **secrets}
    )
    return str(response.json()["access_token"])


def test_sigterm_finishes_every_request_under_way(
    server_process: tuple[subprocess.Popen[bytes], str],
    credential: IssuedCredential,
    client_id: int,
) -> None:
    process, base = server_process
    token, path = _token(base, credential), f"/customer/v1/clients/{client_id}/customers/busy-1"
    outcomes = Outcomes()
    clients = [
        threading.Thread(target=_busy_client, args=(base, token, path, outcomes))
        for _ in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while not outcomes.warmed_up() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outcomes.warmed_up(), "the clients got no answers"
        outcomes.stopping.set()
        process.terminate()
        process.wait(timeout=EXIT_BOUND_SECONDS)
    finally:
        outcomes.done.set()
        for thread in clients:
            thread.join(timeout=60)
    assert process.returncode == 0
    assert outcomes.refused_while_running == []
    assert outcomes.cut_off == []
    assert set(outcomes.answered) == {200}

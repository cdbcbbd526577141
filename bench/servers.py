"""Servers under test as subprocesses, their CPU and memory from /proc, and credentials."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1000:  # bounded: a process tree never gets near this
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def cpu_times(pids: list[int]) -> dict[int, float]:
    """utime + stime in seconds of each process still alive."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # stat fields 14 and 15
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings; a process new since counts from zero."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def rss_mb(pid: int) -> float:
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return resident_pages * _PAGE_KB / 1024


def _titles() -> dict[int, bytes]:
    titles = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                titles[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
    return titles


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their title names it) and their parallel
    workers (whose title names the leader's pid instead)."""
    titles = {pid: t for pid, t in _titles().items() if t.startswith(b"postgres: ")}
    backends = {pid for pid, t in titles.items() if f" {database} ".encode() in t}
    workers = {
        pid
        for pid, t in titles.items()
        if (found := re.search(rb"parallel worker for PID (\d+)", t)) and int(found[1]) in backends
    }
    return sorted(backends | workers)


@dataclass
class Server:
    """A server started in its own session, so Ctrl-C reaches us and we stop it in order."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}:\n{self.log.read_text()}")
            if self._answers(path) and self._listening() >= len(self.workers()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log}")

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError):
            return False

    def _listening(self) -> int:
        """How many processes listen on the port: a worker still starting takes no
        connections, and every connection wrk opens meanwhile would go to the others."""
        listing = subprocess.run(
            ["ss", "-tlnpH", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return len(set(re.findall(r"pid=(\d+)", listing)))

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        pids = descendants(self.process.pid)
        # multiprocessing may start a resource tracker beside the uvicorn workers.
        workers = [p for p in pids if b"resource_tracker" not in _cmdline(p)]
        return workers or [self.process.pid]  # --workers 1: the server serves itself

    def __exit__(self, *exc: object | TracebackType) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def create_credential(url: str, client_id: int) -> dict[str, str]:
    env = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": url,
        "CUSTOMER_REGISTRY_MIGRATE_ON_START": "false",
    }
    command = ["customer-registry", "credentials", "create", "--client-id", str(client_id)]
    done = subprocess.run(
        [*command, "--name", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    issued: dict[str, str] = json.loads(done.stdout)
    return issued


def bearer_token(base_url: str, credential: dict[str, str]) -> str:
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": credential["oauthClientId"],
            "client_secret": credential["oauthClientSecret"],
        }
    ).encode()
    with urllib.request.urlopen(base_url + "/oauth/token", data=form, timeout=10) as response:
        token: str = json.load(response)["access_token"]
    return token


def send(base_url: str, method: str, path: str, headers: dict[str, str], body: str) -> int:
    """One request outside wrk, to show what a scenario's requests answer."""
    request = urllib.request.Request(
        base_url + path, data=body.encode() or None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode(errors="replace")
        raise RuntimeError(f"{method} {path} answered {error.code}: {detail}") from error

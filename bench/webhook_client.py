"""python -m bench.webhook_client: CPU per delivered webhook, by HTTP client, in one run.

One uvloop event loop (as in a ``serve`` worker) sends webhooks one at a time, as a delivery
round does, to ``bench/receiver.py`` (a subprocess on 127.0.0.1 answering 204; its CPU is not
counted). Each variant signs and sends the same event body with the same headers:

- **sender**: the service's ``events.sending.Sender`` (whatever client it uses);
- **httpx**: one ``httpx.AsyncClient`` kept open for the endpoint (HTTP/1.1 keep-alive);
- **floor**: one kept-alive asyncio stream, the request written as bytes, the answer parsed
  by httptools: about the least a POST costs in Python.

Variants take turns, ``--rounds`` times, the order reversed every other round; the figure is
the median. Then **deliver**: ``delivery.deliver_now`` over ``--events`` events of a SQLite
database (in this process, so the database's work is counted), with the service's Sender,
after each ``webhooks replay``: CPU per event of whole delivery rounds; and what they would
cost with httpx instead (deliver - sender + httpx).

    python -m bench.webhook_client --sends 3000 --rounds 5 --events 2000
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import httptools
import httpx
import uvloop

from bench import compat, load
from bench.measure import say
from bench.servers import free_port
from customer_registry.config import Settings
from customer_registry.db import open_database
from customer_registry.events import delivery, service
from customer_registry.events.sending import Sender, new_secret, signature
from customer_registry.ops.key_checks import open_vault
from customer_registry.vault import Vault

Send = Callable[[str, bytes], Awaitable[int]]  # (event id, body) -> status
_EXAMPLE = Path(__file__).parents[1] / "tests" / "data" / "horizon_put_request.json"
_SECRET = new_secret()


def _body() -> bytes:
    """An event about the size of a real one (a customer and the fields that changed)."""
    customer = json.loads(_EXAMPLE.read_text())
    event = {"id": "evt_x", "type": "customer.updated", "customer": customer}
    return json.dumps({**event, "previous": {"email": "a@example.com"}}).encode()


def _headers(event_id: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "User-Agent": "customer-registry-webhooks/1",
        "Content-Type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(_SECRET, event_id, timestamp, body),
    }


class _Floor:
    """One kept-alive connection; the request as bytes; the answer parsed by httptools."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.done = False
        self.parser = httptools.HttpResponseParser(self)

    def on_message_complete(self) -> None:
        self.done = True

    async def __call__(self, event_id: str, body: bytes) -> int:
        if not hasattr(self, "writer"):
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"POST /hook HTTP/1.1\r\nHost: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in _headers(event_id, body).items()]
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        self.writer.write("\r\n".join(lines).encode("latin-1") + body)
        self.done = False
        while not self.done:
            self.parser.feed_data(await self.reader.read(65536))
        return int(self.parser.get_status_code())


def _variants(port: int, sender: Sender, client: httpx.AsyncClient) -> dict[str, Send]:
    url = f"http://127.0.0.1:{port}/hook"

    async def by_sender(event_id: str, body: bytes) -> int:
        return 204 if (await sender.send(url, _SECRET, event_id, body)).delivered else 0

    async def by_httpx(event_id: str, body: bytes) -> int:
        response = await client.post(url, content=body, headers=_headers(event_id, body))
        return response.status_code

    return {"sender": by_sender, "httpx": by_httpx, "floor": _Floor(port)}


async def _cpu_per_send(send: Send, sends: int, body: bytes) -> float:
    for n in range(50):  # connections open, caches warm
        await send(f"warm{n}", body)
    started = time.process_time()
    for n in range(sends):
        if await send(f"evt_{n}", body) >= 300:
            raise RuntimeError("the receiver did not accept a webhook")
    return (time.process_time() - started) / sends * 1e6


async def _sends(port: int, args: argparse.Namespace) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    body = _body()
    async with (
        Sender(timeout=5, allow_private=True) as sender,
        httpx.AsyncClient(timeout=5, trust_env=False) as client,
    ):
        variants = list(_variants(port, sender, client).items())
        for round_number in range(args.rounds):
            for name, send in variants if round_number % 2 == 0 else variants[::-1]:
                cpu = await _cpu_per_send(send, args.sends, body)
                found.setdefault(name, []).append(cpu)
                say(f"  round {round_number + 1} {name:<7} {cpu:6.0f} µs CPU per event")
    return found


def _cli(*args: str) -> str:
    return subprocess.run(
        ["customer-registry", *args], capture_output=True, text=True, check=True
    ).stdout


def _database(work: Path, events: int, receiver: str) -> str:
    """A SQLite database whose client 1001 has ``events`` events and an endpoint; its id."""
    os.environ["CUSTOMER_REGISTRY_DATABASE_URL"] = f"sqlite+aiosqlite:///{work / 'hooks.db'}"
    os.environ["CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE"] = "true"
    load.migrate(os.environ["CUSTOMER_REGISTRY_DATABASE_URL"])
    rows = subprocess.check_output(
        [sys.executable, "-m", "bench.import_rows", "--rows", str(events)]
    )
    (work / "rows.jsonl").write_bytes(rows)
    _cli("import", str(work / "rows.jsonl"), "--client-id", "1001")
    endpoint: str = json.loads(_cli("webhooks", "add", receiver, "--client-id", "1001", "--json"))[
        "id"
    ]
    return endpoint


async def _deliveries(endpoint: str, args: argparse.Namespace) -> list[float]:
    settings = Settings()
    database = open_database(settings)
    try:
        vault = await open_vault(database, Vault(settings.key_file))
        found = []
        for _ in range(args.rounds):
            async with database.transaction() as conn:
                await service.replay(conn, endpoint, None)
            started = time.process_time()
            await delivery.deliver_now(database, vault, settings)
            found.append((time.process_time() - started) / args.events * 1e6)
            say(f"  deliver {found[-1]:6.0f} µs CPU per event")
        return found
    finally:
        await database.close()


def _report(sends: dict[str, list[float]], deliveries: list[float]) -> str:
    floor = statistics.median(sends["floor"])
    lines = [
        "| variant | CPU µs per event (median) | x floor | events/s per core | rounds |",
        "|---|--:|--:|--:|---|",
    ]
    for name, runs in [*sends.items(), ("deliver (sender + SQLite)", deliveries)]:
        cpu = statistics.median(runs)
        shown = ", ".join(f"{r:,.0f}" for r in runs)
        lines.append(f"| {name} | {cpu:,.0f} | {cpu / floor:.2f} | {1e6 / cpu:,.0f} | {shown} |")
    sender, httpx_ = statistics.median(sends["sender"]), statistics.median(sends["httpx"])
    # A round's other work (database, event JSON, bookkeeping) does not depend on the client.
    with_httpx = statistics.median(deliveries) - sender + httpx_
    lines.append(f"\nhttpx / sender: {httpx_ / sender:.2f} (CPU per event)")
    lines.append(
        f"deliver with httpx instead (estimated): {with_httpx:,.0f} µs per event,"
        f" {1e6 / with_httpx:,.0f} events/s per core"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_client", description=__doc__)
    parser.add_argument("--sends", type=int, default=3000, help="events per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=2000, help="events in the deliver rounds")
    args = parser.parse_args(argv)
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.receiver", "--port", str(port)])
    try:
        with TemporaryDirectory(prefix="cr-hooks-") as work:
            compat.use_key_file(Path(work) / "bench.key")
            endpoint = _database(Path(work), args.events, f"http://127.0.0.1:{port}/hook")
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                sends = runner.run(_sends(port, args))
                deliveries = runner.run(_deliveries(endpoint, args))
    finally:
        receiver.terminate()
    sys.stdout.write(_report(sends, deliveries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

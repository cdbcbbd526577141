"""python -m bench.outbox: what the outbox and webhook delivery cost writes, in one run.

The same Horizon PUT updates (each changes the customer's e-mail, so each is a change and
appends an event) against one database, served in turn by:

- **base**: the code this branch started from (``git merge-base HEAD main``, archived into
  the temp dir and first on ``PYTHONPATH``): no outbox;
- **outbox**: this code, no webhook endpoint: every write appends its event, nothing is
  delivered;
- **webhooks**: this code with one endpoint per client, sent to ``bench/receiver.py`` (a
  receiver answering 204) by the workers' background deliverers during the run;
- **counter** (PostgreSQL): this code plus a trigger that takes a per-client counter row in
  each write's transaction, as late as it can (at its last statement): the other way to
  give a client's events their order, measured rather than argued.

Configurations take turns, round after round (``--rounds``), each on a server of its own
started for its run, so drift on this shared machine hits them alike; a configuration's
figure is the median of its rounds. After each webhooks run the bench waits for the
deliverers to catch up and reports how long that took.

    python -m bench.outbox --db postgres --customers 20000 --seconds 10 --rounds 3
    python -m bench.outbox --db sqlite --customers 20000 --seconds 10 --rounds 3
"""

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg

from bench import compat, load, stage, wrk
from bench.measure import Runner, say
from bench.report import RESULTS, Measurement
from bench.scenarios import SCENARIOS
from bench.servers import Server, cpu_times, cpu_used, free_port

FIRST_CLIENT = 1001
_COUNTER_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_counters (client_id bigint PRIMARY KEY, n bigint)"
)
_COUNTER_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_count_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO bench_counters VALUES (NEW.client_id, 1)
  ON CONFLICT (client_id) DO UPDATE SET n = bench_counters.n + 1;
  RETURN NULL;
END $$"""
_COUNTER_ON = (
    "CREATE TRIGGER bench_count_event AFTER INSERT ON customer_events "
    "FOR EACH ROW EXECUTE FUNCTION bench_count_event()"
)
_COUNTER_OFF = "DROP TRIGGER IF EXISTS bench_count_event ON customer_events"
_BACKLOG = (
    "SELECT count(*) FROM customer_events e JOIN webhook_endpoints w ON e.client_id ="
    " w.client_id WHERE e.position > w.position OR e.position IS NULL"
)


@dataclass
class Config:
    name: str
    base: bool = False  # the code before the outbox
    webhooks: bool = False
    counter: bool = False
    runs: list[Measurement] = field(default_factory=list)
    drain_seconds: list[float] = field(default_factory=list)
    # The receiver's CPU per write: on these 2 cores beside the server, unlike in production.
    receiver_cpu_us: list[float] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(float(getattr(m, attribute)) for m in self.runs)

    def server_cpu(self) -> float:
        return statistics.median(m.server_cpu_us for m in self.runs)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--base", default="main", help="the branch whose merge base is 'base'")
    return parser.parse_args(argv)


def _base_source(ref: str, work: Path) -> Path:
    commit = subprocess.check_output(["git", "merge-base", "HEAD", ref], text=True).strip()
    archive = subprocess.run(["git", "archive", commit, "src"], capture_output=True, check=True)
    (work / "base").mkdir()
    subprocess.run(["tar", "-x", "-C", str(work / "base")], input=archive.stdout, check=True)
    say(f"bench: base is {commit[:10]} (merge base of HEAD and {ref})")
    return work / "base" / "src"


def _server(config: Config, url: str, work: Path, workers: int, base: Path) -> Server:
    env = {
        **os.environ,
        "CUSTOMER_REGISTRY_DATABASE_URL": url,
        "CUSTOMER_REGISTRY_MIGRATE_ON_START": "false",
        "CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    if config.base:
        env["PYTHONPATH"] = str(base)
    port = free_port()
    command = [sys.executable, "-m", "customer_registry", "serve", "--workers", str(workers)]
    return Server(config.name, [*command, "--port", str(port)], env, port, work / "server.log")


def _cli(url: str, *args: str) -> str:
    env = {**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url}
    env["CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE"] = "true"
    done = subprocess.run(
        ["customer-registry", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _sql(url: str, *statements: str) -> Any:
    """Run statements on the bench database; the last one's first value."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return [conn.execute(s).fetchone() for s in statements][-1][0]

    async def run() -> Any:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            for statement in statements[:-1]:
                await conn.execute(statement)
            return await conn.fetchval(statements[-1])
        finally:
            await conn.close()

    return asyncio.run(run())


def _drain(url: str, timeout: float = 300) -> float:
    """Seconds until the deliverers have sent every event (after the load stopped)."""
    started = time.monotonic()
    while _sql(url, _BACKLOG) and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return time.monotonic() - started


def _run(
    config: Config, runner: Runner, pool: Path, concurrency: int, url: str, receiver: int
) -> None:
    runner.warm_up(pool, concurrency)
    before = cpu_times([receiver])
    measured = runner.measure(config.name, pool, concurrency)
    used = cpu_used(before, cpu_times([receiver]))
    config.receiver_cpu_us.append(used / max(measured.requests, 1) * 1e6)
    config.runs.append(measured)
    if config.webhooks:
        config.drain_seconds.append(_drain(url))
        say(f"  delivered everything {config.drain_seconds[-1]:.1f} s after the load stopped")


def _one_run(config: Config, args: argparse.Namespace, env: dict[str, Any], pool: Path) -> None:
    url, work, clients = env["url"], env["work"], env["clients"]
    endpoints = []
    if config.webhooks:
        for client in clients:
            args_ = ("webhooks", "add", env["receiver"], "--client-id", str(client), "--json")
            endpoints.append(json.loads(_cli(url, *args_))["id"])
    if config.counter:
        _sql(url, _COUNTER_TABLE, _COUNTER_FUNCTION, _COUNTER_ON, "SELECT 1")
    try:
        with _server(config, url, work, args.workers, env["base"]) as server:
            server.wait_ready("/healthz")
            runner = Runner(server, env["database"], args.seconds, 1, work, 1)
            _run(config, runner, pool, args.concurrency, url, env["receiver_pid"])
    finally:
        if config.counter:
            _sql(url, _COUNTER_OFF, "SELECT 1")
        for endpoint in endpoints:
            _cli(url, "webhooks", "remove", endpoint)


def _configs(args: argparse.Namespace) -> list[Config]:
    found = [Config("base", base=True), Config("outbox"), Config("webhooks", webhooks=True)]
    if args.db == "postgres":
        found.append(Config("counter", counter=True))
    return found


def _report(configs: list[Config]) -> str:
    base, outbox = configs[0], configs[1]
    lines = [
        "| configuration | req/s | p50 ms | p99 ms | CPU µs/req app + db (+ receiver)"
        " | x base | x outbox | x outbox (CPU) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for c in configs:
        rps, cpu = c.median("rps"), c.server_cpu()
        app = c.median("cpu_us_per_request")
        receiver = statistics.median(c.receiver_cpu_us)
        shown = f"{app:,.0f} + {cpu - app:,.0f}" + (f" (+ {receiver:,.0f})" if c.webhooks else "")
        lines.append(
            f"| {c.name} | {rps:,.0f} | {c.median('p50_ms'):.1f} | {c.median('p99_ms'):.1f}"
            f" | {shown} | {rps / base.median('rps'):.2f} | {rps / outbox.median('rps'):.2f}"
            f" | {outbox.server_cpu() / cpu:.2f} |"
        )
    webhooks = next(c for c in configs if c.webhooks)
    lines.append(
        "\nPer round (req/s): "
        + "; ".join(f"{c.name} {', '.join(f'{m.rps:,.0f}' for m in c.runs)}" for c in configs)
        + f". Deliveries caught up {', '.join(f'{s:.1f}' for s in webhooks.drain_seconds)} s"
        " after each webhooks run."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    wrk.require_wrk()
    configs = _configs(args)
    with ExitStack() as stack:
        work = Path(stack.enter_context(TemporaryDirectory(prefix="cr-outbox-")))
        compat.use_key_file(work / "bench.key")
        database = None
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        else:
            database, url = load.create_pg_database()
            stack.callback(load.drop_pg_database, database)
        load.migrate(url)
        clients = list(range(FIRST_CLIENT, FIRST_CLIENT + args.clients))
        say(f"bench: loading {args.customers:,} customers")
        loaded = load.load(url, args.customers, clients)
        receiver_port = free_port()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver", "--port", str(receiver_port)]
        )
        stack.callback(receiver.terminate)
        with _server(configs[1], url, work, 1, work) as first:
            first.wait_ready("/healthz")
            context = stage.context(
                url, first.base_url, clients, args.customers // args.clients, loaded.sample
            )
        build = next(s for s in SCENARIOS if s.name == "horizon PUT update").build
        pool = wrk.write_pool(work / "put.pool", build(context))
        env = {
            "url": url,
            "work": work,
            "clients": clients,
            "database": database,
            "base": _base_source(args.base, work),
            "receiver": f"http://127.0.0.1:{receiver_port}/hook",
            "receiver_pid": receiver.pid,
        }
        for round_number in range(args.rounds):
            for config in configs:
                say(f"bench: round {round_number + 1}, {config.name}")
                _one_run(config, args, env, pool)
    report = _report(configs)
    sys.stdout.write(report)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"{time.strftime('%Y%m%dT%H%M%S')}-outbox-{args.db}.json"
    saved.write_text(json.dumps([asdict(c) for c in configs], indent=1, default=str))
    say(f"bench: results in {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""python -m bench.outbox: what the outbox and webhook delivery cost writes, in one run.

Horizon PUT updates (each changes the customer's e-mail, so each is a change and appends an
event) and PUT creates (each a new customer) against one database, served in turn by:

- **outbox**: this code, no webhook endpoint: every write appends its event, nothing is
  delivered;
- **webhooks**: this code with one endpoint per client, sent to ``bench/receiver.py`` (a
  receiver on 127.0.0.1 answering 204) by the deliverers inside ``serve``'s workers during
  the run: the issue's measure is its throughput against **outbox**'s;
- **base** (``--configs``): the code at ``--base`` (archived into the temp dir and first on
  ``PYTHONPATH``), before the outbox;
- **counter** (``--configs``, PostgreSQL): this code plus a trigger that takes a per-client
  counter row in each write's transaction, as late as it can (at its last statement): the
  other way to give a client's events their order, measured rather than argued.

Configurations take turns, round after round (``--rounds``), in reverse order every other
round, each on a server of its own started for its run, so drift on this shared machine hits
them alike; a configuration's figure is the median of its rounds. After each webhooks
measurement the bench waits for the deliverers to catch up and reports how long that took.

    python -m bench.outbox --db postgres --customers 20000 --seconds 10 --rounds 5
    python -m bench.outbox --db sqlite --customers 20000 --seconds 10 --rounds 5
    python -m bench.outbox --configs outbox,webhooks,base,counter --rounds 3
"""

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg

from bench import compat, load, stage, wrk
from bench.measure import Runner, say
from bench.outbox_report import Config, report
from bench.report import RESULTS
from bench.scenarios import SCENARIOS
from bench.servers import Server, cpu_times, cpu_used, free_port

FIRST_CLIENT = 1001
SCENARIOS_MEASURED = ("horizon PUT update", "horizon PUT create")
# main just before issue 15 (the outbox) was merged: --base's default.
BEFORE_OUTBOX = "e311c94^1"
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


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--configs", default="outbox,webhooks", help="of outbox, webhooks, base, counter"
    )
    parser.add_argument("--base", default=BEFORE_OUTBOX, help="the code 'base' runs")
    args = parser.parse_args(argv)
    args.configs = args.configs.split(",")
    if "outbox" not in args.configs or not set(args.configs) <= set(_KINDS):
        parser.error("--configs: outbox (the reference) and any of " + ", ".join(_KINDS))
    return args


def _base_source(ref: str, work: Path) -> Path:
    commit = subprocess.check_output(["git", "rev-parse", ref], text=True).strip()
    archive = subprocess.run(["git", "archive", commit, "src"], capture_output=True, check=True)
    (work / "base").mkdir()
    subprocess.run(["tar", "-x", "-C", str(work / "base")], input=archive.stdout, check=True)
    say(f"bench: base is {commit[:10]} ({ref})")
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


def _measure(config: Config, runner: Runner, scenario: str, env: dict[str, Any]) -> None:
    before = cpu_times([env["receiver_pid"]])
    measured = runner.measure(config.name, env["pools"][scenario], env["concurrency"])
    used = cpu_used(before, cpu_times([env["receiver_pid"]]))
    config.add(scenario, measured, used / max(measured.requests, 1) * 1e6)
    if config.webhooks:
        drained = _drain(env["url"])
        config.drain_seconds.setdefault(scenario, []).append(drained)
        say(f"  delivered everything {drained:.1f} s after the load stopped")


def _run(config: Config, server: Server, args: argparse.Namespace, env: dict[str, Any]) -> None:
    # The warm-up fills the workers' pools and caches; shorter than a measurement.
    warm = Runner(server, env["database"], max(2, args.seconds // 3), 1, env["work"])
    warm.warm_up(env["pools"][SCENARIOS_MEASURED[0]], args.concurrency)
    if config.webhooks:
        _drain(env["url"])
    # No repeats of perturbed runs: the receiver's CPU counts as another process's here,
    # and the interleaved rounds are what cancel the machine's noise.
    runner = Runner(server, env["database"], args.seconds, 1, env["work"], 0)
    for scenario in SCENARIOS_MEASURED:
        _measure(config, runner, scenario, env)


def _one_run(config: Config, args: argparse.Namespace, env: dict[str, Any]) -> None:
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
            _run(config, server, args, env)
    finally:
        if config.counter:
            _sql(url, _COUNTER_OFF, "SELECT 1")
        for endpoint in endpoints:
            _cli(url, "webhooks", "remove", endpoint)


_KINDS = {  # name: what Config(name, ...) sets
    "outbox": {},
    "webhooks": {"webhooks": True},
    "base": {"base": True},
    "counter": {"counter": True},
}


def _configs(args: argparse.Namespace) -> list[Config]:
    if args.db == "sqlite" and "counter" in args.configs:
        raise SystemExit("bench.outbox: the counter configuration is PostgreSQL's")
    return [Config(name, **_KINDS[name]) for name in args.configs]


def _database(args: argparse.Namespace, stack: ExitStack, work: Path) -> tuple[str | None, str]:
    if args.db == "sqlite":
        return None, f"sqlite+aiosqlite:///{work / 'bench.db'}"
    database, url = load.create_pg_database()
    stack.callback(load.drop_pg_database, database)
    return database, url


def _pools(args: argparse.Namespace, url: str, work: Path, clients: list[int]) -> dict[str, Path]:
    """The measured scenarios' request pools, with a credential and token per client."""
    say(f"bench: loading {args.customers:,} customers")
    loaded = load.load(url, args.customers, clients)
    with _server(Config("outbox"), url, work, 1, work) as first:
        first.wait_ready("/healthz")
        context = stage.context(
            url, first.base_url, clients, args.customers // args.clients, loaded.sample
        )
    builds = {s.name: s.build for s in SCENARIOS}
    return {
        name: wrk.write_pool(work / f"pool{i}", builds[name](context))
        for i, name in enumerate(SCENARIOS_MEASURED)
    }


def _prepare(args: argparse.Namespace, stack: ExitStack) -> dict[str, Any]:
    work = Path(stack.enter_context(TemporaryDirectory(prefix="cr-outbox-")))
    compat.use_key_file(work / "bench.key")
    database, url = _database(args, stack, work)
    load.migrate(url)
    clients = list(range(FIRST_CLIENT, FIRST_CLIENT + args.clients))
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.receiver", "--port", str(port)])
    stack.callback(receiver.terminate)
    return {
        "url": url,
        "work": work,
        "clients": clients,
        "database": database,
        "base": _base_source(args.base, work) if "base" in args.configs else work,
        "receiver": f"http://127.0.0.1:{port}/hook",
        "receiver_pid": receiver.pid,
        "pools": _pools(args, url, work, clients),
        "concurrency": args.concurrency,
    }


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    wrk.require_wrk()
    configs = _configs(args)
    with ExitStack() as stack:
        env = _prepare(args, stack)
        for round_number in range(args.rounds):
            # Every other round in reverse: a drift over the run hits no configuration more.
            for config in configs if round_number % 2 == 0 else configs[::-1]:
                say(f"bench: round {round_number + 1}, {config.name}")
                _one_run(config, args, env)
    sys.stdout.write(report(configs, list(SCENARIOS_MEASURED)))
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"{time.strftime('%Y%m%dT%H%M%S')}-outbox-{args.db}.json"
    saved.write_text(json.dumps([asdict(c) for c in configs], indent=1, default=str))
    say(f"bench: results in {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""python -m bench.run: load customers, start the servers, run the scenarios, report.

Everything it creates (a cr_bench_* database or a temp SQLite file, servers, temp files) is
removed on the way out, also on Ctrl-C or an error: the ExitStack unwinds in reverse order,
so servers stop before their database is dropped.
"""

import argparse
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory
from types import FrameType

from bench import bulk, compat, load, phases, rawpg, stage, targets, wrk
from bench.explain import explain
from bench.measure import Runner, say
from bench.meta import describe
from bench.report import Measurement, Report, markdown, save

FIRST_CLIENT = 1001


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--customers", type=int, default=1_000_000, help="rows to load")
    parser.add_argument("--clients", type=int, default=10, help="clients sharing the rows")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--concurrency", default="16,64", help="wrk connections, a list")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores!)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--only", default="", help="comma-separated scenario name parts")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=100_000,
        help="rows for the timed customer-registry import and export (0: skip)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy runs")
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help="repeat up to N runs per server that other processes perturbed, once quiet",
    )
    parser.add_argument(
        "--as-shipped",
        action="store_true",
        help="no TCP_NODELAY shim (see bench/nodelay): every response waits ~40 ms for an ACK",
    )
    args = parser.parse_args(argv)
    args.levels = sorted({int(c) for c in args.concurrency.split(",")})
    if not 1 <= args.seconds <= 120 or args.customers < 10 * args.clients:
        parser.error("--seconds must be 1-120 and --customers at least 10 per client")
    return args


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up exactly like Ctrl-C


def _database(args: argparse.Namespace, work: Path, stack: ExitStack) -> tuple[str, str | None]:
    if args.db == "sqlite":
        return f"sqlite+aiosqlite:///{work / 'bench.db'}", None
    name, url = load.create_pg_database()
    stack.callback(load.drop_pg_database, name)
    say(f"bench: database {name} created (dropped at the end)")
    return url, name


def _baselines(
    args: argparse.Namespace,
    url: str,
    database: str | None,
    work: Path,
    per_client: int,
    report: Report,
) -> dict[int, Measurement]:
    say("bench: hello-world baseline")
    hello = stage.hello(args, url, work, shim=not args.as_shipped)
    report.measurements += hello.values()
    for c in args.levels if database else ():
        say(f"bench: raw asyncpg baselines, concurrency {c}")
        raw = rawpg.measure(url, _clients(args), per_client, concurrency=c, seconds=args.seconds)
        report.raw += [r.as_dict() for r in raw]
    return hello


def _clients(args: argparse.Namespace) -> list[int]:
    return list(range(FIRST_CLIENT, FIRST_CLIENT + args.clients))


def _measure_all(
    args: argparse.Namespace,
    url: str,
    database: str | None,
    work: Path,
    stack: ExitStack,
    report: Report,
) -> None:
    clients, per_client = _clients(args), args.customers // args.clients
    say(f"bench: loading {per_client * args.clients:,} customers")
    loaded = load.load(url, args.customers, clients)
    report.load = loaded.as_dict()
    say(f"bench: loaded at {report.load['rows_per_second']:,} rows/s; explaining searches")
    report.explain = [e.as_dict() for e in explain(url, loaded.sample, clients, per_client)]
    hello = _baselines(args, url, database, work, per_client, report)
    server = stack.enter_context(stage.registry(args, url, work, shim=not args.as_shipped))
    server.wait_ready("/healthz")
    ctx = stage.context(url, server.base_url, clients, per_client, loaded.sample)
    runner = Runner(server, database, args.seconds, args.threads, work, args.retries)
    say("bench: scenarios")
    pools = phases.scenarios(runner, ctx, args, report, hello)
    phases.references(args, url, database, work, ctx, pools, report, hello)
    phases.half_load(runner, pools, report, args.levels[0])
    if not args.no_profile:
        phases.profiles(runner, pools, report, args.levels[-1])
    if not args.as_shipped and "horizon GET" in pools:
        phases.as_shipped(args, url, database, work, pools["horizon GET"], report)
    if args.import_rows:
        report.bulk = bulk.measure(url, work, args.import_rows, clients[-1] + 1)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    wrk.require_wrk()
    signal.signal(signal.SIGTERM, _interrupt)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    report = Report(meta=describe(args, stamp), load={})
    with ExitStack() as stack:
        work = Path(stack.enter_context(TemporaryDirectory(prefix="cr-bench-")))
        compat.use_key_file(work / "bench.key")  # the vault's keys, if the schema seals data
        url, database = _database(args, work, stack)
        load.migrate(url)
        try:
            _measure_all(args, url, database, work, stack, report)
        except BaseException:
            # Keep what was measured before the error or Ctrl-C; cleanup still follows.
            say(f"bench: stopped; partial results in {save(report, stamp + '-partial')}")
            raise
    report.targets = targets.judge(report)
    sys.stdout.write(markdown(report))
    say(f"bench: results in {save(report, stamp)}")
    failed = targets.failures(report)
    for m in failed:
        errors = f"{m.non_2xx} non-2xx, {m.socket_errors} socket errors"
        say(f"!!! {m.scenario} c={m.concurrency}: {errors}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

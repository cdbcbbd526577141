"""The measured phases after loading: scenarios, half-load latency, profiles, as shipped."""

import argparse
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from bench import sampling, stage, targets, wrk
from bench.measure import Runner, say
from bench.report import RESULTS, Measurement, Report
from bench.scenarios import SCENARIOS, Context, Scenario

HALF_LOAD_SCENARIOS = ("horizon GET", "horizon PUT update")
PROFILED = ("horizon GET", "horizon PUT update")
# The reference servers (bench/reference_app.py) and the scenario whose requests they replay.
REFERENCES = {targets.R_GET: "horizon GET", targets.R_PUT: "horizon PUT update"}


def _chosen(args: argparse.Namespace, name: str) -> bool:
    parts = [p.strip().lower() for p in args.only.split(",") if p.strip()]
    return not parts or any(p in name.lower() for p in parts)


def _selected(args: argparse.Namespace) -> list[Scenario]:
    return [s for s in SCENARIOS if _chosen(args, s.name)]


def _ratio(measured: Measurement, report: Report, hello: dict[int, Measurement]) -> None:
    if "python client" not in measured.scenario:
        measured.ratio_hello = measured.rps / hello[measured.concurrency].rps
        return
    # The Python client's rows compare with each other only: HEAD against GET.
    get = report.find("horizon GET (python client)", measured.concurrency)
    if get is not None and get is not measured:
        measured.note = f"{measured.rps / get.rps:.2f} x GET by the same client"


def scenarios(
    runner: Runner,
    ctx: Context,
    args: argparse.Namespace,
    report: Report,
    hello: dict[int, Measurement],
) -> dict[str, Path]:
    pools: dict[str, Path] = {}
    for scenario in _selected(args):
        pool = wrk.write_pool(runner.work / f"{len(pools)}.pool", scenario.build(ctx))
        pools[scenario.name] = pool
        runner.check(scenario.name, pool)
        if len(pools) == 1:  # the workers' connection pools fill up outside the measurement
            runner.warm_up(pool, args.levels[-1])
        for concurrency in args.levels:
            measured = runner.measure(
                scenario.name, pool, concurrency, python_method=scenario.python_method
            )
            _ratio(measured, report, hello)
            report.measurements.append(measured)
    return pools


def references(
    args: argparse.Namespace,
    url: str,
    database: str | None,
    work: Path,
    ctx: Context,
    pools: dict[str, Path],
    report: Report,
    hello: dict[int, Measurement],
) -> None:
    """R-GET and R-PUT at each concurrency, replaying the service's own GET and PUT update
    pools with tokens the reference accepts.

    They run after the service's scenarios (the service idles meanwhile), so those are
    measured exactly as without them; the half-load, profile and as-shipped runs follow.
    """
    names = [name for name in REFERENCES if _chosen(args, name)]
    if not names:
        return
    if database is None:
        say(f"bench: the references ({', '.join(names)}) run on PostgreSQL only; skipped")
        return
    say(f"bench: reference servers {', '.join(names)}")
    scenarios = {s.name: s for s in SCENARIOS}
    with stage.reference(args, url, work, shim=not args.as_shipped) as server:
        server.wait_ready("/healthz")
        runner = Runner(server, database, args.seconds, args.threads, work, args.retries)
        for index, name in enumerate(names):
            source = pools.get(REFERENCES[name])
            if source is None:  # --only R-GET: the service's pool, built but not run
                requests = scenarios[REFERENCES[name]].build(ctx)
                source = wrk.write_pool(work / f"{name}.service.pool", requests)
            pool = stage.reference_pool(source, work / f"{name}.pool")
            runner.check(name, pool)
            if index == 0:  # the workers' asyncpg pools fill up outside the measurement
                runner.warm_up(pool, args.levels[-1])
            for concurrency in args.levels:
                measured = runner.measure(name, pool, concurrency)
                measured.ratio_hello = measured.rps / hello[concurrency].rps
                measured.note = "reference"
                report.measurements.append(measured)


def half_load(runner: Runner, pools: dict[str, Path], report: Report, low: int) -> None:
    """p99 at about half the best throughput: wrk waits between requests on each connection."""
    for name in HALF_LOAD_SCENARIOS:
        runs = [m for m in report.measurements if m.scenario == name]
        if name not in pools or not runs:
            continue
        best = max(m.rps for m in runs)
        delay_ms = runner.calibrated_delay(pools[name], low, best / 2)
        measured = runner.measure(
            f"{name} {targets.HALF_LOAD}", pools[name], low, delay_ms=delay_ms
        )
        measured.note = f"{measured.rps / best:.0%} of max {best:,.0f}/s"
        report.measurements.append(measured)


def profiles(runner: Runner, pools: dict[str, Path], report: Report, concurrency: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    prefix = f"{report.meta['stamp']}-{report.meta['db']}-profile"
    for name in PROFILED:
        output = RESULTS / f"{prefix}-{name.replace(' ', '-')}.txt"
        if name in pools and runner.profile(name, pools[name], concurrency, output):
            report.profiles[name] = asdict(sampling.summarize(output))


def as_shipped(
    args: argparse.Namespace,
    url: str,
    database: str | None,
    work: Path,
    get_pool: Path,
    report: Report,
) -> None:
    """Hello world and GET without the TCP_NODELAY shim: what `serve --workers 2` gives today."""
    hello = stage.hello(args, url, work, shim=False)
    report.measurements += hello.values()
    with ExitStack() as stack:
        server = stack.enter_context(stage.registry(args, url, work, shim=False))
        server.wait_ready("/healthz")
        runner = Runner(server, database, args.seconds, args.threads, work, args.retries)
        for concurrency in args.levels:
            measured = runner.measure("horizon GET" + stage.AS_SHIPPED, get_pool, concurrency)
            measured.ratio_hello = measured.rps / hello[concurrency].rps
            report.measurements.append(measured)

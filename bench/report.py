"""The results: markdown tables on stdout, everything in bench/results/<timestamp>.json."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cpuclock import PERTURBED_CORES

RESULTS = Path(__file__).with_name("results")
EXACT_SEARCHES = ("customerNumber", "name prefix", "ssn", "page 1", "page 100")


@dataclass
class Measurement:
    scenario: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_us_per_request: float
    db_cpu_us_per_request: float | None
    rss_mb: list[float]
    worker_cpu_share: list[float] = field(default_factory=list)
    loadgen_cpu_us_per_request: float = 0.0
    foreign_cores: float = 0.0  # CPU of processes outside the bench during the run
    ratio_hello: float | None = None
    note: str = ""

    @property
    def server_cpu_us(self) -> float:
        """Service plus database CPU per request: what bounds throughput on shared cores."""
        return self.cpu_us_per_request + (self.db_cpu_us_per_request or 0.0)

    @property
    def perturbed(self) -> bool:
        return self.foreign_cores > PERTURBED_CORES

    @property
    def failed(self) -> bool:
        return self.non_2xx > 0 or self.socket_errors > 0


@dataclass
class Report:
    meta: dict[str, Any]
    load: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    explain: list[dict[str, Any]] = field(default_factory=list)
    profiles: dict[str, Any] = field(default_factory=dict)
    bulk: list[dict[str, Any]] = field(default_factory=list)  # bench/bulk.py: import, export
    targets: list[tuple[str, str, str]] = field(default_factory=list)

    def find(self, scenario: str, concurrency: int) -> Measurement | None:
        return next(
            (
                m
                for m in self.measurements
                if m.scenario == scenario and m.concurrency == concurrency
            ),
            None,
        )

    def cpu_ratio(self, m: Measurement) -> float | None:
        """Hello world's CPU per request over this run's: throughput's ratio when CPU-bound.

        Unlike req/s it hardly moves when other processes share the cores.
        """
        hello = self.find("hello world", m.concurrency)
        return hello.server_cpu_us / m.server_cpu_us if hello and m.server_cpu_us else None

    def raw_rps(self, name: str, concurrency: int) -> float | None:
        found = [
            r["rps"] for r in self.raw if r["name"] == name and r["concurrency"] == concurrency
        ]
        return found[0] if found else None


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def scenario_table(report: Report) -> str:
    lines = [
        "| scenario | conc | req/s | p50 ms | p99 ms | x hello | x hello (CPU) | CPU µs/req (app) "
        "| CPU µs/req (db) | worker CPU split | RSS MB/worker | others (cores) "
        "| non-2xx | socket err |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for m in report.measurements:
        flag = (" ⚠" if m.failed else "") + (" (perturbed)" if m.perturbed else "")
        name = f"{m.scenario}{flag}" + (f" ({m.note})" if m.note else "")
        rss = "/".join(f"{r:.0f}" for r in m.rss_mb) or "-"
        lines.append(
            f"| {name} | {m.concurrency} | {_f(m.rps, 0)} | {_f(m.p50_ms, 2)} | {_f(m.p99_ms, 2)} "
            f"| {_f(m.ratio_hello, 2)} | {_f(report.cpu_ratio(m), 2)} "
            f"| {_f(m.cpu_us_per_request, 0)} "
            f"| {_f(m.db_cpu_us_per_request, 0)} "
            f"| {'/'.join(f'{x:.0%}' for x in m.worker_cpu_share) or '-'} | {rss} "
            f"| {m.foreign_cores:.2f} | {m.non_2xx} | {m.socket_errors} |"
        )
    for r in report.raw:
        lines.append(
            f"| {r['name']} | {r['concurrency']} | {_f(r['rps'], 0)} | "
            f"{_f(r['p50_ms'], 2)} | {_f(r['p99_ms'], 2)} | | | | | | | | | |"
        )
    return "\n".join(lines)


def bulk_table(report: Report) -> str:
    """``customer-registry import`` and ``export`` as an operator runs them (bench/bulk.py)."""
    if not report.bulk:
        return "`customer-registry import` / `export`: not measured (--import-rows 0).\n"
    lines = [
        "| command | rows | seconds | rows/s | CPU s | peak RSS MB |",
        "|---|--:|--:|--:|--:|--:|",
        *(
            f"| {t['step']} | {t['rows']:,} | {t['seconds']} | {t['rows_per_second']:,} "
            f"| {t['cpu_seconds']} | {t['peak_rss_mb']} |"
            for t in report.bulk
        ),
    ]
    return "\n".join(lines) + "\n"


def explain_table(report: Report) -> str:
    lines = [
        "| search | server ms (median) | max ms | planning ms | execution ms "
        "| ms per statement, as issued | indexes | seq scan |",
        "|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for e in report.explain:
        lines.append(
            f"| {e['case']} | {e['server_ms']:.3f} | {e['max_server_ms']:.3f} "
            f"| {e['planning_ms']:.3f} | {e['execution_ms']:.3f} "
            f"| {' / '.join(f'{t:.2f}' for t in e.get('statement_ms', []))} "
            f"| {', '.join(e['indexes']) or '-'} | {'yes' if e['seq_scan'] else 'no'} |"
        )
    return "\n".join(lines)


def markdown(report: Report) -> str:
    load = report.load
    meta = report.meta
    parts = [
        f"## Customer Registry benchmark — {meta['db']}, {meta['customers']:,} customers, "
        f"{meta['seconds']} s per run, wrk -t{meta['threads']}",
        f"\nCode measured: {meta['code']}\n",
        f"Bulk load of the scenarios' customers (COPY / executemany): "
        f"{load['rows']:,} rows in {load['seconds']} s = **{load['rows_per_second']:,} rows/s** "
        f"end to end (fake-data generation in 2 processes, then the load); the load alone: "
        f"**{load['db_rows_per_second']:,} rows/s**. Post-load ANALYZE: "
        f"{load['analyze_seconds']} s. The service's rules per row (derived_columns and the "
        f"id generators): {load['rules_us_per_row']} µs, i.e. "
        f"{1e6 / max(load['rules_us_per_row'], 0.1):,.0f} rows/s per core.\n",
        bulk_table(report),
        scenario_table(report),
        "\n### Search: server time of the repository's SQL (EXPLAIN ANALYZE)\n",
        explain_table(report),
        "\n### Targets (issue 7)\n",
        "| target | measured | verdict |\n|---|---|---|",
        *(f"| {t} | {m} | {v} |" for t, m, v in report.targets),
    ]
    for name, profile in report.profiles.items():
        parts.append(f"\n### Profile: {name} ({profile['samples']} samples, all workers)\n")
        parts.append(
            "own time by package: "
            + ", ".join(f"{p} {s:.0f}%" for p, s in profile["by_package"][:10])
        )
        parts += [f"- {s:.1f}% own {n}" for n, s in profile["top_self"][:10]]
        # Below the framework spine (which every sample passes through): where time goes.
        spine = 0.6 * max((s for _, s in profile["top_inclusive"]), default=0.0)
        inner = [(n, s) for n, s in profile["top_inclusive"] if s < spine]
        parts += ["", "inclusive: " + "; ".join(f"{n} {s:.0f}%" for n, s in inner[:15])]
    return "\n".join(parts) + "\n"


def save(report: Report, stamp: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{stamp}-{report.meta['db']}.json"
    data = asdict(report)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str))
    return path


def load(path: Path) -> Report:
    """A saved run, to render again: python -m bench.report bench/results/<file>.json."""
    data = json.loads(path.read_text())
    data["measurements"] = [Measurement(**m) for m in data["measurements"]]
    data["targets"] = [tuple(t) for t in data["targets"]]
    return Report(**data)


def main() -> None:
    import sys

    from bench import targets  # imports this module: only here, not at the top

    report = load(Path(sys.argv[1]))
    report.targets = targets.judge(report)
    sys.stdout.write(markdown(report))


if __name__ == "__main__":
    main()

"""Issue 7's targets, judged against one run's report."""

from collections.abc import Callable
from typing import Any

from bench.report import EXACT_SEARCHES, Measurement, Report

Row = tuple[str, str, str]
HALF_LOAD = "@ ~half max"
# The reference servers (bench/reference_app.py): the service's scenario each one mirrors.
R_GET, R_PUT = "R-GET", "R-PUT"
_REFERENCED = (
    (R_GET, "horizon GET", "Horizon GET"),
    (R_PUT, "horizon PUT update", "Horizon PUT update"),
)


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ratio_rows(report: Report, scenario: str, floor: float, label: str) -> list[Row]:
    rows = []
    for m in report.measurements:
        cpu_ratio = report.cpu_ratio(m)
        if m.scenario == scenario and m.ratio_hello is not None and cpu_ratio is not None:
            perturbed = " (perturbed)" if m.perturbed else ""
            rows.append(
                (
                    f"{label} ≥ {floor} x hello world (c={m.concurrency})",
                    f"{m.ratio_hello:.2f} by req/s{perturbed} ({m.rps:,.0f} req/s); "
                    f"{cpu_ratio:.2f} by CPU per request",
                    _verdict(max(m.ratio_hello, cpu_ratio) >= floor),
                )
            )
    return rows


def _put_vs_raw(report: Report) -> list[Row]:
    rows = []
    for m in report.measurements:
        raw = report.raw_rps("raw asyncpg upsert", m.concurrency)
        if m.scenario == "horizon PUT update" and raw:
            ratio = m.rps / raw
            rows.append(
                (
                    f"PUT update ≥ 0.50 x raw asyncpg upsert (c={m.concurrency})",
                    f"{ratio:.2f} ({m.rps:,.0f} vs {raw:,.0f}/s)",
                    _verdict(ratio >= 0.5),
                )
            )
    return rows


def _versus_references(report: Report) -> list[Row]:
    """The service over the plain reference: below 1 the service is slower, or costs more."""
    rows: list[Row] = []
    for reference, scenario, label in _REFERENCED:
        runs = [m for m in report.measurements if m.scenario == scenario]
        if runs and report.meta["db"] != "postgres":
            rows.append((f"{label} x {reference}", "not measured: PostgreSQL only", "no target"))
        for m in runs:
            ref = report.find(reference, m.concurrency)
            if ref is None or not m.server_cpu_us:
                continue
            perturbed = " (perturbed)" if m.perturbed or ref.perturbed else ""
            rows.append(
                (
                    f"{label} x {reference} (c={m.concurrency})",
                    f"{m.rps / ref.rps:.2f} by req/s{perturbed} "
                    f"({m.rps:,.0f} vs {ref.rps:,.0f} req/s); "
                    f"{ref.server_cpu_us / m.server_cpu_us:.2f} by CPU per request "
                    f"({m.server_cpu_us:,.0f} vs {ref.server_cpu_us:,.0f} µs, app + db)",
                    "no target",
                )
            )
    return rows


def _half_load(report: Report) -> list[Row]:
    rows = []
    for m in report.measurements:
        if m.scenario.endswith(HALF_LOAD):
            rows.append(
                (
                    f"p99 ≤ 10 ms at half max throughput: {m.scenario} ({m.note})",
                    f"p99 {m.p99_ms:.2f} ms at {m.rps:,.0f} req/s",
                    _verdict(m.p99_ms <= 10),
                )
            )
    return rows


def _search(report: Report) -> list[Row]:
    size = report.meta["customers"]
    at = "" if size >= 1_000_000 else f" (measured at {size:,}, not 1M)"
    rows = []
    for e in report.explain:
        if e["case"] in EXACT_SEARCHES:
            rows.append(
                (
                    f"search server time ≤ 2 ms: {e['case']}{at}",
                    f"{e['server_ms']:.2f} ms median, {e['max_server_ms']:.2f} max",
                    _verdict(e["server_ms"] <= 2),
                )
            )
    return rows


def _timed(report: Report, step: str) -> dict[str, Any] | None:
    return next((t for t in report.bulk if t["step"] == step), None)


def _bulk(report: Report) -> list[Row]:
    floor = 50_000 if report.meta["db"] == "postgres" else 15_000
    created, export = _timed(report, "import (created)"), _timed(report, "export")
    empty = _timed(report, "export (empty client)")
    rows: list[Row] = []
    if created:
        label = f"bulk import ≥ {floor:,} rows/s on {report.meta['db']} ({created['rows']:,} rows)"
        rate = created["rows_per_second"]
        rows.append((label, f"{rate:,} rows/s", _verdict(rate >= floor)))
    if export and empty:
        growth = export["peak_rss_mb"] - empty["peak_rss_mb"]
        label = f"export streams in constant memory: RSS growth < 100 MB ({export['rows']:,} rows)"
        measured = f"+{growth:.0f} MB over an empty export ({export['rows_per_second']:,} rows/s)"
        rows.append((label, measured, _verdict(growth < 100)))
    return rows


def _memory(report: Report) -> list[Row]:
    peak = max((r for m in report.measurements for r in m.rss_mb), default=0.0)
    return [("RSS per worker ≤ 150 MB under load", f"{peak:.0f} MB max", _verdict(peak <= 150))]


def judge(report: Report) -> list[Row]:
    checks: list[Callable[[Report], list[Row]]] = [
        lambda r: _ratio_rows(r, "horizon GET", 0.5, "GET"),
        lambda r: _ratio_rows(r, "horizon PUT update", 0.35, "PUT update"),
        _put_vs_raw,
        _versus_references,
        _half_load,
        _search,
        _bulk,
        _memory,
    ]
    return [row for check in checks for row in check(report)]


def failures(report: Report) -> list[Measurement]:
    return [m for m in report.measurements if m.failed]

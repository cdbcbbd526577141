"""bench.outbox's configurations, their measurements and the markdown report.

python -m bench.outbox_report bench/results/<file>-outbox-<db>.json   # a saved run again
"""

import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import Measurement


@dataclass
class Config:
    name: str
    base: bool = False  # the code of --base (before the outbox)
    webhooks: bool = False
    counter: bool = False
    runs: dict[str, list[Measurement]] = field(default_factory=dict)  # by scenario
    drain_seconds: dict[str, list[float]] = field(default_factory=dict)
    # The receiver's CPU per write: on these 2 cores beside the server, unlike in production.
    receiver_cpu_us: dict[str, list[float]] = field(default_factory=dict)

    def median(self, scenario: str, attribute: str) -> float:
        return statistics.median(float(getattr(m, attribute)) for m in self.runs[scenario])

    def server_cpu(self, scenario: str) -> float:
        return statistics.median(m.server_cpu_us for m in self.runs[scenario])

    def add(self, scenario: str, measured: Measurement, receiver_cpu_us: float) -> None:
        self.runs.setdefault(scenario, []).append(measured)
        self.receiver_cpu_us.setdefault(scenario, []).append(receiver_cpu_us)


def _row(c: Config, scenario: str, outbox: Config, base: Config | None) -> str:
    rps, cpu = c.median(scenario, "rps"), c.server_cpu(scenario)
    app = c.median(scenario, "cpu_us_per_request")
    receiver = statistics.median(c.receiver_cpu_us[scenario])
    shown = f"{app:,.0f} + {cpu - app:,.0f}" + (f" (+ {receiver:,.0f})" if c.webhooks else "")
    versus_base = f" {rps / base.median(scenario, 'rps'):.2f} |" if base else ""
    versus_outbox = rps / outbox.median(scenario, "rps")
    return (
        f"| {c.name} | {rps:,.0f} | {c.median(scenario, 'p50_ms'):.1f}"
        f" | {c.median(scenario, 'p99_ms'):.1f} | {shown} | {versus_outbox:.2f}"
        f" | {outbox.server_cpu(scenario) / cpu:.2f} |{versus_base}"
    )


def _table(configs: list[Config], scenario: str) -> list[str]:
    outbox = next(c for c in configs if c.name == "outbox")
    base = next((c for c in configs if c.base), None)
    header = (
        "| configuration | req/s | p50 ms | p99 ms | CPU µs/req app + db (+ receiver)"
        " | x outbox | x outbox (CPU) |" + (" x base |" if base else "")
    )
    lines = [f"\n{scenario}:\n", header, "|---|--:|--:|--:|--:|--:|--:|" + ("--:|" if base else "")]
    lines += [_row(c, scenario, outbox, base) for c in configs]
    rounds = "; ".join(
        f"{c.name} {', '.join(f'{m.rps:,.0f}' for m in c.runs[scenario])}" for c in configs
    )
    lines.append(f"\nPer round (req/s): {rounds}.")
    for c in (c for c in configs if c.webhooks):
        drained = ", ".join(f"{s:.1f}" for s in c.drain_seconds[scenario])
        lines.append(f"Deliveries caught up {drained} s after each {c.name} run.")
    return lines


def _paired(a: Config, b: Config, scenario: str) -> float:
    """The median of each round's ratio: a round's two runs are next to each other."""
    runs = zip(a.runs[scenario], b.runs[scenario], strict=True)
    return statistics.median(y.rps / x.rps for x, y in runs)


def headline(configs: list[Config], scenarios: list[str]) -> str:
    """The issue's measure: writes with a webhook endpoint against writes without one."""
    outbox = next(c for c in configs if c.name == "outbox")
    webhooks = next((c for c in configs if c.webhooks), None)
    if webhooks is None:
        return ""
    lines = ["webhooks / outbox (req/s: of the medians; median of the rounds' ratios; CPU):"]
    for scenario in scenarios:
        a, b = outbox.median(scenario, "rps"), webhooks.median(scenario, "rps")
        cpu = outbox.server_cpu(scenario) / webhooks.server_cpu(scenario)
        lines.append(
            f"- {scenario}: {b / a:.2f} ({b:,.0f} / {a:,.0f} req/s);"
            f" {_paired(outbox, webhooks, scenario):.2f}; {cpu:.2f}"
        )
    return "\n".join(lines) + "\n"


def loaded(saved: list[dict[str, Any]]) -> list[Config]:
    """Configurations from a results file (``python -m bench.outbox_report FILE``)."""
    found = []
    for config in saved:
        runs = {s: [Measurement(**m) for m in ms] for s, ms in config.pop("runs").items()}
        found.append(Config(**config, runs=runs))
    return found


def report(configs: list[Config], scenarios: list[str]) -> str:
    lines = [headline(configs, scenarios)]
    for scenario in scenarios:
        lines += _table(configs, scenario)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    configs = loaded(json.loads(Path(sys.argv[1]).read_text()))
    sys.stdout.write(report(configs, list(configs[0].runs)))

"""Where the machine's CPU went during one run: server, database, load generator, others.

Other engineers' test runs share the 2 cores; a run during which processes outside the
bench used a noticeable share of a core is flagged instead of silently reported.
"""

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import cpu_times, cpu_used

_TICKS = os.sysconf("SC_CLK_TCK")
PERTURBED_CORES = 0.25  # CPU of outside processes above which a run is flagged


def _machine_busy() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle) / _TICKS


def _own() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


@dataclass
class Snapshot:
    at: float
    machine: float
    own: float
    workers: dict[int, float]
    database: dict[int, float]

    @classmethod
    def take(cls, workers: list[int], database: list[int]) -> "Snapshot":
        return cls(
            time.monotonic(), _machine_busy(), _own(), cpu_times(workers), cpu_times(database)
        )


@dataclass
class CpuUse:
    """CPU seconds of one run, and the cores used by processes outside the bench."""

    workers: list[float]
    database: float
    loadgen: float
    foreign_cores: float

    @classmethod
    def between(cls, before: Snapshot, after: Snapshot) -> "CpuUse":
        workers = [after.workers[p] - before.workers.get(p, 0.0) for p in after.workers]
        database = cpu_used(before.database, after.database)
        loadgen = after.own - before.own
        machine = after.machine - before.machine
        foreign = machine - sum(workers) - database - loadgen
        return cls(workers, database, loadgen, max(foreign, 0.0) / (after.at - before.at))


def wait_quiet(max_seconds: float, window: float = 2.0) -> bool:
    """Wait until the machine is idle but for PERTURBED_CORES; False after ``max_seconds``.

    Call it while the servers under test are idle: all CPU seen then is someone else's.
    """
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        before = _machine_busy()
        time.sleep(window)
        if (_machine_busy() - before) / window < PERTURBED_CORES:
            return True
    return False

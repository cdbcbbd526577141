"""The real ``customer-registry import`` and ``export``, timed as an operator runs them.

Rows come from ``bench/import_rows.py`` (seed-shaped customers in the registry row shape),
imported into a client of their own, then re-imported unchanged and exported again. CPU
(``wait4``) and peak memory (``VmHWM``) are the command's own, so the generator's cost is
not counted.
"""

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.measure import say


@dataclass(frozen=True)
class Timed:
    step: str
    rows: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_second": round(self.rows_per_second)}


def _peak_rss_mb(pid: int, known: float) -> float:
    # VmHWM, not wait4's ru_maxrss: that counts the bench's own memory, copied at the fork.
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return max(known, int(line.split()[1]) / 1024)
    except OSError:
        pass
    return known


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, Any, float]:
    """Exit status, resource usage and peak RSS (MB) of the finished process."""
    peak = 0.0
    while True:
        peak = _peak_rss_mb(process.pid, peak)
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status), usage, peak
        time.sleep(0.05)


def _run(step: str, rows: int, command: list[str], env: dict[str, str]) -> Timed:
    say(f"bench: {step} ({rows:,} rows)")
    start = time.perf_counter()
    # A file, not a pipe, for stderr: a full pipe would stall the command.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        code, usage, peak = _wait(process)
        seconds = time.perf_counter() - start
        if code != 0:
            errors.seek(0)
            raise RuntimeError(f"{step} failed: {errors.read().decode(errors='replace')}")
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(step, rows, round(seconds, 2), round(cpu, 2), round(peak, 1))


def _generate(rows: int, path: Path) -> None:
    say(f"bench: generating {rows:,} import rows")
    command = [
        sys.executable,
        "-m",
        "bench.import_rows",
        "--rows",
        str(rows),
        "--dialect",
        "registry",
    ]
    with path.open("wb") as out:
        subprocess.run(command, stdout=out, check=True, cwd=Path(__file__).parents[1])


def _export(client_id: int, output: Path) -> list[str]:
    return ["customer-registry", "export", "--client-id", str(client_id), "--output", str(output)]


def measure(url: str, work: Path, rows: int, client_id: int) -> list[dict[str, Any]]:
    """Import ``rows`` new customers, re-import them unchanged, export them."""
    source, exported = work / "import.jsonl", work / "export.jsonl"
    _generate(rows, source)
    env = {**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url}
    load = ["customer-registry", "import", str(source), "--client-id", str(client_id)]
    timed = [
        _run("import (created)", rows, load, env),
        _run("import (unchanged)", rows, load, env),
        _run("export", rows, _export(client_id, exported), env),
        # Memory growth is judged against the same command with nothing to write.
        _run("export (empty client)", 0, _export(client_id + 1, exported), env),
    ]
    return [t.as_dict() for t in timed]

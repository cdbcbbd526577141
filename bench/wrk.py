"""Running wrk against a pool of prepared requests and reading its report."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

POOL_SCRIPT = Path(__file__).with_name("pool.lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_LATENCY = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""

    def line(self) -> str:
        headers = "\x1e".join(f"{name}: {value}" for name, value in self.headers.items())
        for part in (self.path, headers, self.body):
            if "\t" in part or "\n" in part:  # the pool file's separators
                raise ValueError(f"tab or newline in a request: {part[:80]!r}")
        return f"{self.method}\t{self.path}\t{headers}\t{self.body}"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    output: str


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "bench: wrk is not installed. Install it (Debian/Ubuntu: "
            "apt-get update && apt-get install -y wrk) and run again."
        )
    return found


def write_pool(path: Path, requests: list[Request]) -> Path:
    path.write_text("".join(request.line() + "\n" for request in requests))
    return path


def _script(directory: Path, delay_ms: float) -> Path:
    source = POOL_SCRIPT.read_text()
    if delay_ms > 0:
        # A random wait around delay_ms keeps the connections from marching in step.
        source += f"\nfunction delay() return {delay_ms:.3f} * (0.5 + math.random()) end\n"
    script = directory / ("pool_delay.lua" if delay_ms > 0 else "pool.lua")
    script.write_text(source)
    return script


def run(
    base_url: str,
    pool: Path,
    *,
    seconds: int,
    connections: int,
    threads: int,
    tag: str,
    delay_ms: float = 0.0,
) -> WrkResult:
    script = _script(pool.parent, delay_ms)
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base_url,
        "--",
        str(pool),
        tag,
        str(delay_ms),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def parse(output: str) -> WrkResult:
    latency = {m[1]: float(m[2]) * _UNITS[m[3]] for m in _LATENCY.finditer(output)}
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rps is None or "50" not in latency:
        raise RuntimeError(f"cannot read wrk's report:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkResult(
        requests=int(total[1]),
        seconds=float(total[2]) * _UNITS[total[3]] / 1e3,
        rps=float(rps[1]),
        p50_ms=latency["50"],
        p99_ms=latency.get("99", latency["50"]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        output=output,
    )

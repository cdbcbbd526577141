"""A small closed-loop HTTP/1.1 load generator for HEAD, which wrk cannot measure.

wrk parses every answer as if it had a body: a HEAD response carries the GET's
Content-Length and no body, so wrk waits for bytes that never come. This client reads the
headers only. It is Python, so it costs the server more CPU than wrk does; the bench runs the
GET pool through it as well, and HEAD is judged against that GET, not against wrk's numbers.
"""

import asyncio
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

_END = b"\r\n\r\n"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _requests(pool: Path, method: str, host: str) -> list[bytes]:
    built = []
    for line in pool.read_text().splitlines():
        _, path, headers, _ = line.split("\t")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
        lines += [h for h in headers.split("\x1e") if h]
        built.append(("\r\n".join(lines) + "\r\n\r\n").encode())
    return built


async def _body_length(reader: asyncio.StreamReader, head: bytes, method: str) -> None:
    if method == "HEAD":
        return
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))


async def _connection(
    port: int, requests: list[bytes], method: str, deadline: float, seed: int
) -> tuple[list[float], int, int]:
    rng = random.Random(seed)
    latencies: list[float] = []
    non_2xx = errors = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(rng.choice(requests))
            head = await asyncio.wait_for(reader.readuntil(_END), timeout=10)
            await _body_length(reader, head, method)
            latencies.append(time.perf_counter() - started)
            non_2xx += head[9:10] != b"2"  # "HTTP/1.1 200": the status's first digit
    except (OSError, asyncio.IncompleteReadError, TimeoutError):
        errors += 1
    finally:
        writer.close()
    return latencies, non_2xx, errors


Runs = list[tuple[list[float], int, int]]


async def _run(
    port: int, requests: list[bytes], method: str, concurrency: int, seconds: int
) -> tuple[Runs, float]:
    started = time.perf_counter()
    deadline = started + seconds
    runs = await asyncio.gather(
        *(_connection(port, requests, method, deadline, seed) for seed in range(concurrency))
    )
    return list(runs), time.perf_counter() - started


def run(port: int, pool: Path, method: str, *, concurrency: int, seconds: int) -> LoadResult:
    requests = _requests(pool, method, f"127.0.0.1:{port}")
    runs, elapsed = asyncio.run(_run(port, requests, method, concurrency, seconds))
    latencies = sorted(t for run, _, _ in runs for t in run)
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1e3 if latencies else 0.0,
        p99_ms=p99 * 1e3,
        non_2xx=sum(n for _, n, _ in runs),
        errors=sum(e for _, _, e in runs),
    )

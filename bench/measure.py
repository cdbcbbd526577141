"""One wrk run against a running server, with the server's CPU and memory around it."""

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import headload, sampling, servers, wrk
from bench.report import Measurement
from bench.servers import Server, cpu_times, cpu_used, postgres_backends


@dataclass
class Runner:
    server: Server
    database: str | None  # the PostgreSQL database, whose backends' CPU is counted too
    seconds: int
    threads: int
    work: Path

    def _db_pids(self) -> list[int]:
        return postgres_backends(self.database) if self.database else []

    def check(self, name: str, pool: Path) -> None:
        """Send the pool's first request once: a scenario of errors measures nothing."""
        method, path, headers, body = pool.open().readline().rstrip("\n").split("\t")
        unique = "check" + secrets.token_hex(4)
        header_map = dict(h.split(": ", 1) for h in headers.split("\x1e") if h)
        try:
            servers.send(
                self.server.base_url,
                method,
                path.replace("{N}", unique),
                header_map,
                body.replace("{N}", unique),
            )
        except RuntimeError as error:
            raise RuntimeError(f"scenario {name!r} does not work: {error}") from error

    def _drive(
        self, pool: Path, concurrency: int, delay_ms: float, python_method: str
    ) -> wrk.WrkResult:
        if python_method:
            done = headload.run(
                self.server.port, pool, python_method, concurrency=concurrency, seconds=self.seconds
            )
            return wrk.WrkResult(
                done.requests,
                done.seconds,
                done.rps,
                done.p50_ms,
                done.p99_ms,
                done.non_2xx,
                done.errors,
                output="",
            )
        return wrk.run(
            self.server.base_url,
            pool,
            seconds=self.seconds,
            connections=concurrency,
            threads=self.threads,
            tag=secrets.token_hex(3),
            delay_ms=delay_ms,
        )

    def measure(
        self,
        name: str,
        pool: Path,
        concurrency: int,
        *,
        delay_ms: float = 0.0,
        python_method: str = "",
    ) -> Measurement:
        """One run; ``python_method`` uses the Python client (for HEAD) instead of wrk."""
        workers = self.server.workers()
        app_before, db_before = cpu_times(workers), cpu_times(self._db_pids())
        result = self._drive(pool, concurrency, delay_ms, python_method)
        app_used = cpu_used(app_before, cpu_times(workers))
        db_used = cpu_used(db_before, cpu_times(self._db_pids()))
        requests = max(result.requests, 1)
        measurement = Measurement(
            scenario=name,
            concurrency=concurrency,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            requests=result.requests,
            non_2xx=result.non_2xx,
            socket_errors=result.socket_errors,
            cpu_us_per_request=app_used / requests * 1e6,
            db_cpu_us_per_request=db_used / requests * 1e6 if self.database else None,
            rss_mb=[round(servers.rss_mb(pid), 1) for pid in workers],
        )
        _progress(measurement)
        return measurement

    def profile(self, name: str, pool: Path, concurrency: int, output: Path) -> bool:
        """An extra run of the scenario with py-spy on the first worker; False without py-spy."""
        workers = self.server.workers()
        sampler = sampling.start(workers[0], self.seconds, output) if workers else None
        if sampler is None:
            say("bench: py-spy not found (pip install py-spy); no profile taken")
            return False
        try:
            wrk.run(
                self.server.base_url,
                pool,
                seconds=self.seconds,
                connections=concurrency,
                threads=self.threads,
                tag=secrets.token_hex(3),
            )
            sampler.wait(timeout=self.seconds + 30)
        finally:
            if sampler.poll() is None:
                sampler.kill()
        return output.exists()


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _progress(m: Measurement) -> None:
    say(
        f"  {m.scenario:<32} c={m.concurrency:<4} {m.rps:>9,.0f} req/s  p50 {m.p50_ms:7.2f} ms"
        f"  p99 {m.p99_ms:7.2f} ms  {m.cpu_us_per_request:6.0f} µs CPU/req"
    )
    if m.failed:
        say(
            f"\n{'!' * 78}\n!!! {m.scenario} c={m.concurrency}: {m.non_2xx} non-2xx responses, "
            f"{m.socket_errors} socket errors out of {m.requests}.\n!!! This row measures "
            f"errors, not the service: do not use it.\n{'!' * 78}\n"
        )

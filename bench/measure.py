"""One wrk run against a running server, with the server's CPU and memory around it."""

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import headload, sampling, servers, wrk
from bench.cpuclock import PERTURBED_CORES, CpuUse, Snapshot, wait_quiet
from bench.report import Measurement
from bench.servers import Server, postgres_backends

RETRIES_PER_RUN = 2
QUIET_WAIT_SECONDS = 30


@dataclass
class Runner:
    server: Server
    database: str | None  # the PostgreSQL database, whose backends' CPU is counted too
    seconds: int
    threads: int
    work: Path
    retries_left: int = 0  # repeats of perturbed runs left (--retries), for this server

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
        """A run; repeated (within a budget) when other processes took CPU during it.

        ``python_method`` drives it with the Python client (for HEAD) instead of wrk.
        """
        best = self._measure_once(name, pool, concurrency, delay_ms, python_method)
        for _ in range(RETRIES_PER_RUN):
            if not best.perturbed or self.retries_left <= 0:
                break
            self.retries_left -= 1
            say(f"  waiting for a quiet machine to repeat {name} c={concurrency}")
            if not wait_quiet(QUIET_WAIT_SECONDS):
                break  # still busy: a repeat would be perturbed as well
            again = self._measure_once(name, pool, concurrency, delay_ms, python_method)
            best = min(best, again, key=lambda m: m.foreign_cores)
        return best

    def warm_up(self, pool: Path, concurrency: int) -> None:
        """Fill the workers' connection pools and caches; not a measurement."""
        self._measure_once("(warm-up)", pool, concurrency, 0.0, "")

    def _measure_once(
        self, name: str, pool: Path, concurrency: int, delay_ms: float, python_method: str
    ) -> Measurement:
        workers = self.server.workers()
        before = Snapshot.take(workers, self._db_pids())
        result = self._drive(pool, concurrency, delay_ms, python_method)
        use = CpuUse.between(before, Snapshot.take(workers, self._db_pids()))
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
            cpu_us_per_request=sum(use.workers) / requests * 1e6,
            db_cpu_us_per_request=use.database / requests * 1e6 if self.database else None,
            rss_mb=[round(servers.rss_mb(pid), 1) for pid in workers],
            worker_cpu_share=[round(w / max(sum(use.workers), 1e-9), 2) for w in use.workers],
            loadgen_cpu_us_per_request=use.loadgen / requests * 1e6,
            foreign_cores=round(use.foreign_cores, 2),
        )
        _progress(measurement)
        return measurement

    def calibrated_delay(self, pool: Path, concurrency: int, target_rps: float) -> float:
        """The wrk delay that gives about ``target_rps``: a guess, one short run, a correction."""
        cycle_ms = concurrency / target_rps * 1e3  # each connection's request + wait
        delay_ms = cycle_ms / 2
        probe = wrk.run(
            self.server.base_url,
            pool,
            seconds=max(2, self.seconds // 3),
            connections=concurrency,
            threads=self.threads,
            tag=secrets.token_hex(3),
            delay_ms=delay_ms,
        )
        measured_cycle_ms = concurrency / max(probe.rps, 1e-3) * 1e3
        return max(0.0, delay_ms + cycle_ms - measured_cycle_ms)

    def profile(self, name: str, pool: Path, concurrency: int, output: Path) -> bool:
        """An extra run of the scenario with py-spy on every worker; False without py-spy.

        All workers, because connections are not spread evenly: one worker may get them all.
        """
        pids = self.server.workers()
        parts = [output.with_suffix(f".{pid}.txt") for pid in pids]
        samplers = [
            sampling.start(pid, self.seconds, p) for pid, p in zip(pids, parts, strict=True)
        ]
        if not samplers or any(s is None for s in samplers):
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
            for sampler in samplers:
                if sampler is not None:
                    sampler.wait(timeout=self.seconds + 30)
        finally:
            for sampler in samplers:
                if sampler is not None and sampler.poll() is None:
                    sampler.kill()
        output.write_text("".join(p.read_text() for p in parts if p.exists()))
        for part in parts:
            part.unlink(missing_ok=True)
        return output.stat().st_size > 0


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _progress(m: Measurement) -> None:
    say(
        f"  {m.scenario:<32} c={m.concurrency:<4} {m.rps:>9,.0f} req/s  p50 {m.p50_ms:7.2f} ms"
        f"  p99 {m.p99_ms:7.2f} ms  {m.cpu_us_per_request:6.0f} µs CPU/req"
        f"  workers {'/'.join(f'{x:.0%}' for x in m.worker_cpu_share)}"
        f"  others {m.foreign_cores:.2f} cores"
    )
    if m.foreign_cores > PERTURBED_CORES:
        say(f"  ^ perturbed: processes outside the bench used {m.foreign_cores:.2f} cores")
    if m.failed:
        say(
            f"\n{'!' * 78}\n!!! {m.scenario} c={m.concurrency}: {m.non_2xx} non-2xx responses, "
            f"{m.socket_errors} socket errors out of {m.requests}.\n!!! This row measures "
            f"errors, not the service: do not use it.\n{'!' * 78}\n"
        )

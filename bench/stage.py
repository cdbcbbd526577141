"""Servers under test and the clients' credentials: what the scenarios run against."""

import argparse
import os
import random
import sys
from pathlib import Path

from bench import servers, wrk
from bench.measure import Runner
from bench.report import Measurement
from bench.scenarios import Client, Context
from bench.seed import CustomerFactory, Sample
from bench.servers import Server, free_port

NODELAY_SHIM = Path(__file__).with_name("nodelay")
AS_SHIPPED = " (as shipped)"


def server(command: list[str], url: str, work: Path, name: str, *, shim: bool) -> Server:
    """A server on a free port; ``command`` ends with the option that takes the port."""
    env = {**os.environ, "CUSTOMER_REGISTRY_DATABASE_URL": url}
    if shim:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(NODELAY_SHIM), os.environ.get("PYTHONPATH", "")) if p
        )
    port = free_port()
    return Server(name, [*command, str(port)], env, port, work / f"{name}.log")


def registry(args: argparse.Namespace, url: str, work: Path, *, shim: bool) -> Server:
    command = ["customer-registry", "serve", "--workers", str(args.workers), "--port"]
    return server(command, url, work, "registry" if shim else "registry-as-shipped", shim=shim)


def hello(args: argparse.Namespace, url: str, work: Path, *, shim: bool) -> dict[int, Measurement]:
    """The hello-world baseline at each concurrency, on the same uvicorn settings."""
    pool = wrk.write_pool(work / "hello.pool", [wrk.Request("GET", "/", {})])
    command = [
        sys.executable,
        "-m",
        "bench.hello_app",
        "--workers",
        str(args.workers),
        "--port",
    ]
    name = "hello world" + ("" if shim else AS_SHIPPED)
    with server(command, url, work, "hello" if shim else "hello-as-shipped", shim=shim) as hw:
        hw.wait_ready("/")
        runner = Runner(hw, None, args.seconds, args.threads, work, args.retries)
        runner.warm_up(pool, args.levels[-1])
        return {c: runner.measure(name, pool, c) for c in args.levels}


def context(
    url: str, base_url: str, clients: list[int], per_client: int, sample: Sample
) -> Context:
    found = []
    for client_id in clients:  # one credential per client: a subscription key names one client
        credential = servers.create_credential(url, client_id)
        token = servers.bearer_token(base_url, credential)
        found.append(Client(client_id, token, credential["subscriptionKey"]))
    return Context(found, per_client, sample, random.Random(11), CustomerFactory(4242, 10**9))

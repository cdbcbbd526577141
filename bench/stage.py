"""Servers under test and the clients' credentials: what the scenarios run against."""

import argparse
import os
import random
import re
import sys
from pathlib import Path

from bench import reference_app, servers, wrk
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


def reference(args: argparse.Namespace, url: str, work: Path, *, shim: bool) -> Server:
    """R-GET and R-PUT (bench/reference_app.py), on the service's worker count."""
    command = [sys.executable, "-m", "bench.reference_app", "--workers", str(args.workers)]
    return server([*command, "--port"], url, work, "reference", shim=shim)


_CLIENT_PATH = re.compile(r"^/customer/v1/clients/(\d+)/")
_AUTHORIZATION = "Authorization: "


def reference_pool(source: Path, destination: Path) -> Path:
    """The service's request pool with each client's bearer token swapped for one the
    reference accepts: the same customer numbers and bodies, in the same order."""
    tokens: dict[str, str] = {}
    lines = []
    for line in source.read_text().split("\n")[:-1]:  # not splitlines: it splits at \x1e
        method, path, headers, body = line.split("\t")
        found = _CLIENT_PATH.match(path)
        if found is None:
            raise ValueError(f"not a Horizon customer path: {path}")
        client = found[1]
        if client not in tokens:
            tokens[client] = reference_app.token(int(client))
        swapped = [
            f"{_AUTHORIZATION}Bearer {tokens[client]}" if h.startswith(_AUTHORIZATION) else h
            for h in headers.split("\x1e")
        ]
        lines.append("\t".join((method, path, "\x1e".join(swapped), body)))
    destination.write_text("".join(line + "\n" for line in lines))
    return destination


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

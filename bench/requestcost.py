"""CPU per request of the hot routes, in process: the ASGI app called directly, no HTTP.

A quick, quiet companion to ``bench.run``: no sockets, no load generator, no other process
on the measured CPU (only the database's, which is reported apart). Each route is called
``--requests`` times after a warm-up; the report gives the app's CPU µs per request and its
ratio to the smallest FastAPI JSON route measured the same way in the same run.

    python -m bench.requestcost --database-url postgresql+asyncpg://postgres@127.0.0.1/test
    python -m bench.requestcost                      # a SQLite file in a temp dir
"""

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from asyncio import selector_events
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from customer_registry import migrations
from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings
from customer_registry.http.observability import RequestObservability
from customer_registry.ops.metrics import Metrics

SEED = Path(__file__).parents[1] / "tests" / "data"
Call = Callable[[], Awaitable[int]]


def _asgi_call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes) -> Call:
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers += [(b"host", b"localhost"), (b"content-length", str(len(body)).encode())]
    path, _, query = path.partition("?")

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 5000),
            "server": ("localhost", 80),
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


class _Writes:
    """Counts what the process writes to sockets: on PostgreSQL, one write per round trip
    (asyncpg sends a prepared statement's Bind, Execute and Sync at once)."""

    count = 0
    _write = selector_events._SelectorSocketTransport.write

    @classmethod
    def install(cls) -> None:
        def counted(transport: Any, data: Any) -> None:
            cls.count += 1
            cls._write(transport, data)

        selector_events._SelectorSocketTransport.write = counted  # type: ignore[method-assign]


async def _cpu_per_call(call: Call, requests: int) -> tuple[float, float]:
    """CPU µs per call, and database round trips per call."""
    for _ in range(min(200, requests)):
        await call()
    started, writes = time.process_time(), _Writes.count
    for _ in range(requests):
        status = await call()
        assert status < 300, status
    cpu = (time.process_time() - started) / requests * 1e6
    return cpu, (_Writes.count - writes) / requests


def _hello() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"message": "hello world"}

    return app


async def _token(app: Any, issued: credentials.IssuedCredential) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.oauth_client_id,
        "client_secret": issued.oauth_client_secret,
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        response = await http.post("/oauth/token", data=form)
        return str(response.json()["access_token"])


def _routes(app: Any, token: str, key: str, client_id: int) -> dict[str, Call]:
    horizon = f"/customer/v1/clients/{client_id}/customers/customer-person-1"
    bearer = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    keyed = {"x-subscription-key": key, "content-type": "application/json"}
    body = (SEED / "horizon_put_request.json").read_bytes()
    other = json.loads(body)
    changed = [body, json.dumps({**other, "email": "other@example.no"}).encode()]
    turn = {"n": 0}
    put_same = _asgi_call(app, "PUT", horizon, bearer, body)
    put_calls = [_asgi_call(app, "PUT", horizon, bearer, b) for b in changed]

    async def put_update() -> int:
        turn["n"] += 1
        return await put_calls[turn["n"] % 2]()

    sub_post = (SEED / "subscriptions_post_request.json").read_bytes()
    number = json.loads(sub_post)["customer"]["customerNumber"]
    search = json.dumps({"searchColumn": "clientId", "searchValue": str(client_id)}).encode()
    search_path = f"/customer/v1/clients/{client_id}/customers/search?perPage=20"
    return {
        "Horizon PUT unchanged": put_same,
        "Horizon PUT update": put_update,
        "Horizon GET": _asgi_call(app, "GET", horizon, bearer, b""),
        "Subscriptions POST": _asgi_call(
            app, "POST", "/subscriptions/v1/customers", keyed, sub_post
        ),
        "Subscriptions GET": _asgi_call(
            app, "GET", f"/subscriptions/v1/customers/{number}", keyed, b""
        ),
        "search page of 20": _asgi_call(app, "POST", search_path, bearer, search),
    }


async def _measure(
    url: str, key_file: Path, requests: int, only: list[str]
) -> dict[str, tuple[float, float]]:
    app = create_app(Settings(database_url=url, key_file=key_file))
    client_id = secrets.randbelow(2**31 - 2) + 1  # a shared database may hold older runs
    async with app.state.runtime.database.transaction() as conn:
        issued = await credentials.create_credential(conn, [client_id], "bench")
    token = await _token(app, issued)
    # The service's access line, request id and metrics around hello world: their cost is
    # the difference between the first two rows.
    observed = RequestObservability(_hello(), Metrics(app.state.runtime.database))
    results = {
        "hello world": await _cpu_per_call(_asgi_call(_hello(), "GET", "/", {}, b""), requests),
        "hello world + access line, request id, metrics": await _cpu_per_call(
            _asgi_call(observed, "GET", "/", {}, b""), requests
        ),
    }
    routes = _routes(app, token, issued.subscription_key, client_id)
    for create in ("Horizon PUT unchanged", "Subscriptions POST"):
        await routes[create]()  # what the reads read
    for name, call in routes.items():
        if not only or any(part in name for part in only):
            results[name] = await _cpu_per_call(call, requests)
    await app.state.runtime.database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", default="", help="comma-separated parts of route names")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        url = args.database_url or f"sqlite+aiosqlite:///{work}/bench.db"
        key_file = Path(work) / "bench.key"
        migrations.upgrade(url, key_file=key_file)
        only = [part for part in args.only.split(",") if part]
        _Writes.install()
        results = asyncio.run(_measure(url, key_file, args.requests, only))
    hello = results["hello world"][0]
    lines = ["| route | CPU us/request | x hello (CPU) | round trips |", "|---|--:|--:|--:|"]
    lines += [
        f"| {name} | {us:,.0f} | {hello / us:.2f} | {trips:.1f} |"
        for name, (us, trips) in results.items()
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

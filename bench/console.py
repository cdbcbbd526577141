"""Server time of each console page at a given number of customers in one client.

Loads ``--customers`` seed customers (bench/seed.py, as the service would write them) into
one client of a throwaway database, with a change event each and two webhook endpoints
(bench/console_events.py), gives a few of them a history through the Horizon API,
signs an operator in, then calls each page ``--requests`` times through the app's ASGI entry
in process (no HTTP, no other process but the database) and reports the median, 95th
percentile and largest wall time per page: the time the server spends on it.

    python -m bench.console --db postgres --customers 1000000
    python -m bench.console --db sqlite --customers 100000 --requests 50
"""

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, insert, text

from bench import compat, console_events, load
from bench.seed import COLUMNS, CustomerFactory, Sample
from customer_registry.app import create_app
from customer_registry.auth import credentials
from customer_registry.config import Settings
from customer_registry.console import operators, sessions
from customer_registry.db import customers as customers_table
from tests.horizon.conftest import customer_url, person

CLIENT_ID = 1
CHUNK = 100_000
BASE = "http://localhost"


def _rows(factory: CustomerFactory, start: int, count: int) -> list[tuple[Any, ...]]:
    rows = [factory.row(CLIENT_ID, index) for index in range(start, start + count)]
    return [tuple(row[name] for name in COLUMNS) for row in rows]


async def _load_pg(url: str, customers: int, factory: CustomerFactory) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for start in range(0, customers, CHUNK):
            rows = _rows(factory, start, min(CHUNK, customers - start))
            await conn.copy_records_to_table("customers", records=rows, columns=COLUMNS)
            sys.stderr.write(f"  {start + len(rows):,} customers\n")
        for statement in console_events.seed_statements("postgresql", CLIENT_ID):
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE customers")
        await conn.execute("VACUUM ANALYZE customer_events")
    finally:
        await conn.close()


def _load_sqlite(path: str, customers: int, factory: CustomerFactory) -> None:
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA journal_mode=WAL"))
    try:
        for start in range(0, customers, CHUNK):
            rows = _rows(factory, start, min(CHUNK, customers - start))
            with engine.begin() as conn:
                values = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
                conn.execute(insert(customers_table), values)
            sys.stderr.write(f"  {start + len(rows):,} customers\n")
        with engine.begin() as conn:
            for statement in console_events.seed_statements("sqlite", CLIENT_ID):
                conn.execute(text(statement))
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _load(url: str, customers: int) -> Sample:
    factory = CustomerFactory(seed=17, sample_every=max(1, customers // 200))
    started = time.perf_counter()
    if url.startswith("postgresql"):
        asyncio.run(_load_pg(url, customers, factory))
    else:
        _load_sqlite(url.split("///", 1)[1], customers, factory)
    sys.stderr.write(f"loaded in {time.perf_counter() - started:.0f} s\n")
    return factory.sample


Call = Callable[[], Awaitable[httpx.Response]]


async def _operator(app: Any) -> dict[str, str]:
    """A signed-in operator of every client: its cookie and a form token."""
    async with app.state.runtime.database.transaction() as conn:
        created = await operators.create_operator(conn, "bench", None)
        assert created is not None
        await operators.set_hash(conn, created[0], await operators.hash_password("bench" * 4))
        token = await sessions.start(conn, created[0], 3600)
    return {"cookie": f"cr_console={token}", "csrf": sessions.csrf_token(token)}


async def _history(http: httpx.AsyncClient, app: Any, number: str) -> None:
    """60 changes of one customer through the Horizon API."""
    async with app.state.runtime.database.transaction() as conn:
        issued = await credentials.create_credential(conn, [CLIENT_ID], "bench")
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.oauth_client_id,
        "client_secret": issued.oauth_client_secret,
    }
    token = (await http.post("/oauth/token", data=form)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for i in range(60):
        body = person(email=f"changed{i}@example.com")
        response = await http.put(customer_url(CLIENT_ID, number), json=body, headers=auth)
        assert response.status_code == 200, response.text


_PICK = text(
    "SELECT email, phone_e164 FROM customers WHERE client_id = :client_id "
    "AND customer_number > :after AND phone_e164 IS NOT NULL ORDER BY customer_number LIMIT 1"
)


async def _picked(app: Any, customers: int) -> tuple[str, str]:
    """The e-mail address and phone number of a customer in the middle."""
    from customer_registry.db import Sql

    async with app.state.runtime.database.reading() as conn:
        params = {"client_id": CLIENT_ID, "after": _number(customers // 2)}
        row = await conn.fetchrow(Sql(_PICK), params)
    return str(row[0]), str(row[1])


def _number(index: int) -> str:
    return f"c{1_600_000_000 + index}"


def _pages(
    http: httpx.AsyncClient, sample: Sample, csrf: str, picked: tuple[str, str], customers: int
) -> dict[str, Call]:
    client = f"/console/clients/{CLIENT_ID}"
    ssn = sample.ssns[len(sample.ssns) // 2][1]
    typed = sample.names[len(sample.names) // 3][1]
    number = _number(0)

    def get(path: str, **params: str) -> Call:
        return lambda: http.get(path, params=params)

    async def reveal() -> httpx.Response:
        return await http.post(f"{client}/customer/reveal", data={"number": number, "csrf": csrf})

    form: dict[str, str] = {}

    async def replay() -> httpx.Response:
        # The events page's first endpoint form, from the event it offers (the newest).
        if not form:
            page = (await http.get(f"{client}/events")).text
            form.update(re.findall(r'name="(csrf|endpoint|position)"[^>]* value="([^"]+)"', page))
        return await http.post(f"{client}/events/replay", data=form)

    return {
        "clients": get("/console/clients"),
        "client: every customer, page 1": get(client),
        "client: every customer, from the middle": get(client, after=_number(customers // 2)),
        "search 'a' (any field), page 1": get(client, q="a"),
        "search name 'a', from 'an'": get(client, q="a", field="name", after_key="an", after=""),
        f"search {typed!r} (any field)": get(client, q=typed),
        "search national ID (any field)": get(client, q=ssn),
        "search national ID (its field)": get(client, q=ssn, field="nationalId"),
        "search e-mail (any field)": get(client, q=picked[0]),
        "search phone (its field)": get(client, q=picked[1], field="phone"),
        "customer card (60 changes)": get(f"{client}/customer", number=number),
        "reveal national ID (POST)": reveal,
        "history page (50 of 60)": get(f"{client}/customer/history", number=number),
        "events, newest (2 endpoints)": get(f"{client}/events"),
        "events, from the middle": get(f"{client}/events", before=str(customers // 2)),
        "replay from the newest event (POST)": replay,
    }


_ANSWERED = (200, 303)  # a replay answers with the events page's address


async def _time(call: Call, requests: int) -> tuple[list[float], int]:
    """Wall times in ms, and the number of customers the page lists."""
    for _ in range(3):
        response = await call()
        assert response.status_code in _ANSWERED, response.text[:300]
    listed = response.text.count("/customer?number=")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code in _ANSWERED, response.text[:300]
    return times, listed


def _line(name: str, times: list[float], listed: int) -> str:
    """A row of the report: ``listed`` is the number of customers the page links to."""
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    median = statistics.median(times)
    return f"| {name} | {listed} | {median:.1f} | {p95:.1f} | {times[-1]:.1f} |"


async def _measure(
    url: str, key_file: Path, sample: Sample, customers: int, requests: int
) -> list[str]:
    # No deliverer: the endpoints' URLs lead nowhere, and sends would share the CPU.
    settings = Settings(
        database_url=url, key_file=key_file, allowed_hosts=("localhost",), log_level="warning",
        deliver_webhooks=False,
    )  # fmt: skip
    app = create_app(settings)
    lines = ["| page | listed | median ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                await _history(http, app, _number(0))
                operator = await _operator(app)
                http.headers["Cookie"] = operator["cookie"]
                picked = await _picked(app, customers)
                await console_events.add_endpoints(app, CLIENT_ID)
                pages = _pages(http, sample, operator["csrf"], picked, customers)
                for name, call in pages.items():
                    lines.append(_line(name, *await _time(call, requests)))
    finally:
        await app.state.runtime.database.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        compat.use_key_file(Path(tmp) / "bench.key")
        name = None
        if args.db == "postgres":
            name, url = load.create_pg_database()
        else:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        try:
            load.migrate(url)
            sample = _load(url, args.customers)
            key_file = Path(tmp) / "bench.key"
            lines = asyncio.run(_measure(url, key_file, sample, args.customers, args.requests))
        finally:
            if name is not None and not args.keep:
                load.drop_pg_database(name)
    heading = f"{args.customers:,} customers in one client, {args.db}, {args.requests} requests"
    sys.stdout.write(heading + "\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

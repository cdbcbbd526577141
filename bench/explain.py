"""Server-side time of the search SQL: the statements the search repository issues, explained.

The statements are captured from the repository itself (a recording transaction), so the plans
are those of the real queries with their real parameters, not of a hand-written copy.
"""

import asyncio
import json
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bench import compat
from bench.seed import Sample, customer_number
from customer_registry.config import Settings
from customer_registry.customers import search_repository
from customer_registry.customers.model import SearchQuery
from customer_registry.db import open_database
from customer_registry.db.statements import compiled
from customer_registry.horizon.schemas import SHOWN_SEALED

REPEATS = 5  # each value is explained this often; the median is kept


@dataclass
class Explained:
    case: str
    statements: int
    planning_ms: float
    execution_ms: float
    max_ms: float
    statement_ms: list[float]  # per statement, in the order the repository issues them
    indexes: list[str]
    seq_scan: bool
    plans: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "statements": self.statements,
            "planning_ms": round(self.planning_ms, 3),
            "execution_ms": round(self.execution_ms, 3),
            "server_ms": round(self.planning_ms + self.execution_ms, 3),
            "max_server_ms": round(self.max_ms, 3),
            "statement_ms": self.statement_ms,
            "indexes": self.indexes,
            "seq_scan": self.seq_scan,
            "plans": self.plans,
        }


class _Recording:
    """A transaction that notes every statement it runs, with its parameters as bound."""

    def __init__(self, tx: Any) -> None:
        self.tx, self.dialect = tx, tx.dialect
        self.seen: list[tuple[str, Any]] = []

    def _note(self, statement: Any, params: Any) -> None:
        sql = compiled(statement, self.dialect)
        bound = sql.positional(params) if self.dialect == "postgresql" else sql.named(params)
        self.seen.append((sql.text, bound))

    async def fetch(self, statement: Any, params: Any = None) -> Any:
        self._note(statement, params)
        return await self.tx.fetch(statement, params)

    async def fetchval(self, statement: Any, params: Any = None) -> Any:
        self._note(statement, params)
        return await self.tx.fetchval(statement, params)


async def _statements(database: Any, client_id: int, query: SearchQuery) -> list[Any]:
    async with database.reading() as tx:
        recording = _Recording(tx)
        store = compat.store(recording)
        await search_repository.search(store, client_id, query, SHOWN_SEALED)
    return recording.seen


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _walk(child)


def _outline(node: dict[str, Any], depth: int = 0) -> list[str]:
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" using {node['Index Name']}"
    rows = f" (rows={node.get('Actual Rows')}, loops={node.get('Actual Loops')})"
    lines = ["  " * depth + label + rows]
    for child in node.get("Plans", ()):
        lines += _outline(child, depth + 1)
    return lines


async def _explain_pg(conn: Any, statement: str, params: Any) -> dict[str, Any]:
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement
    raw = await conn.fetchval(sql, *params)
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    return plan


def _sqlite_node(detail: str) -> dict[str, Any]:
    """A plan line like "SEARCH customers USING INDEX ix_... (client_id=? AND ssn=?)"."""
    node: dict[str, Any] = {"Node Type": detail}
    index = re.search(r"USING (?:COVERING )?INDEX (\S+)", detail)
    if index:
        node["Index Name"] = index[1]
    elif "PRIMARY KEY" in detail:
        node["Index Name"] = "primary key"
    return node


async def _explain_sqlite(conn: Any, statement: str, params: Any) -> dict[str, Any]:
    # SQLite has no EXPLAIN ANALYZE: time the statement itself and show its query plan.
    rows = conn.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    started = time.perf_counter()
    conn.execute(statement, params).fetchall()
    elapsed = (time.perf_counter() - started) * 1e3
    nodes = [_sqlite_node(str(row[-1])) for row in rows]
    return {
        "Plan": {"Node Type": "SQLite", "Plans": nodes},
        "Planning Time": 0.0,
        "Execution Time": elapsed,
    }


Rewrite = Callable[[str], str]


async def _explain_once(database: Any, statements: list[Any]) -> list[dict[str, Any]]:
    async with database.reading() as tx:
        explain_one = _explain_pg if tx.dialect == "postgresql" else _explain_sqlite
        return [await explain_one(tx.conn, statement, params) for statement, params in statements]


async def _explain_case(
    database: Any, case: str, queries: list[tuple[int, SearchQuery]], rewrite: Rewrite
) -> Explained:
    runs: list[list[dict[str, Any]]] = []
    for client_id, query in queries:
        statements = await _statements(database, client_id, query)
        statements = [(rewrite(statement), params) for statement, params in statements]
        runs += [await _explain_once(database, statements) for _ in range(REPEATS)]
    planning = [sum(e["Planning Time"] for e in run) for run in runs]
    execution = [sum(e["Execution Time"] for e in run) for run in runs]
    per_statement = zip(
        *([e["Planning Time"] + e["Execution Time"] for e in r] for r in runs), strict=True
    )
    plans = [e["Plan"] for e in runs[-1]]
    nodes = [node for plan in plans for node in _walk(plan)]
    return Explained(
        case=case,
        statements=len(plans),
        planning_ms=statistics.median(planning),
        execution_ms=statistics.median(execution),
        max_ms=max(p + e for p, e in zip(planning, execution, strict=True)),
        statement_ms=[round(statistics.median(times), 3) for times in per_statement],
        indexes=sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
        # SQLite's "SCAN t" without an index is its sequential scan; "SCAN anon_1" reads a
        # materialized subquery (a page's keys), not a table.
        seq_scan=any(
            "Seq Scan" in n["Node Type"]
            or (
                n["Node Type"].startswith("SCAN ")
                and not n["Node Type"].startswith("SCAN anon_")
                and "Index Name" not in n
            )
            for n in nodes
        ),
        plans=["\n".join(_outline(plan)) for plan in plans],
    )


def _unchanged(statement: str) -> str:
    return statement


def _without_nulls_last(statement: str) -> str:
    # What-if: customer_number is NOT NULL, so NULLS LAST changes no order, but it stops the
    # planner from reading the primary key backwards instead of sorting every match.
    return statement.replace(" NULLS LAST", "")


def _cases(sample: Sample, clients: list[int], per_client: int) -> dict[str, list[Any]]:
    rng = random.Random(3)
    numbers = [(c, customer_number(rng.randrange(per_client))) for c in clients[:5]]
    names = rng.sample(sample.names, min(5, len(sample.names)))
    ssns = rng.sample(sample.ssns, min(5, len(sample.ssns)))
    return {
        "customerNumber": [(c, SearchQuery("customerNumber", n)) for c, n in numbers],
        "name prefix": [(c, SearchQuery("name", v)) for c, v in names],
        "ssn": [(c, SearchQuery("ssn", v)) for c, v in ssns],
        **{
            f"page {page}": [(c, SearchQuery("clientId", str(c), page=page)) for c in clients[:3]]
            for page in (1, 100, 10_000)
        },
    }


async def _explain_all(url: str, sample: Sample, clients: list[int], per_client: int) -> Any:
    database = open_database(Settings(database_url=url))
    try:
        cases = _cases(sample, clients, per_client)
        found = [
            await _explain_case(database, case, queries, _unchanged)
            for case, queries in cases.items()
        ]
        for case in ("page 1", "page 100"):
            what_if = f"{case}, what-if: ORDER BY without NULLS LAST"
            found.append(await _explain_case(database, what_if, cases[case], _without_nulls_last))
        return found
    finally:
        await database.close()


def explain(url: str, sample: Sample, clients: list[int], per_client: int) -> list[Explained]:
    result: list[Explained] = asyncio.run(_explain_all(url, sample, clients, per_client))
    return result

"""PostgreSQL batch writes through COPY, the fastest way rows enter PostgreSQL.

New customers whose numbers and identifiers are known to be free are copied straight into
``customers``. The others, and updates, are copied into a temporary staging table in one
``COPY``, then moved into ``customers`` by one ``INSERT … SELECT … ON CONFLICT DO NOTHING
RETURNING`` (the creates) and one ``UPDATE … FROM`` (the updates, whose rows the caller has
locked). History entries are copied straight into their table.
"""

from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from customer_registry.db import Sql, Tx, customers

Record = tuple[Any, ...]  # a customer's column values, in the order of NAMES
NAMES = tuple(column.name for column in customers.columns)
_KEY = ("client_id", "customer_number")
staging = sa.Table(
    "customer_staging",
    sa.MetaData(),
    *(sa.Column(column.name, column.type) for column in customers.columns),
)
_s, _c = staging.c, customers.c
# Per session, emptied by every commit: no DDL per batch, nothing left between batches.
_CREATE = Sql(
    text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS customer_staging "
        "(LIKE customers INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
)
# Creates are at version 1, updates above it: one COPY carries both.
_INSERT = Sql(
    postgresql.insert(customers)
    .from_select(NAMES, sa.select(*staging.columns).where(_s.version == 1))
    .on_conflict_do_nothing()
    .returning(_c.customer_number)
)
_UPDATE = Sql(
    sa.update(customers)
    .where(_c.client_id == _s.client_id, _c.customer_number == _s.customer_number, _s.version > 1)
    .values({name: _s[name] for name in NAMES if name not in _KEY})
)
_EMPTY = Sql(text("TRUNCATE customer_staging"))


async def insert_new(conn: Tx, creates: list[Record]) -> bool:
    """COPY ``creates`` into ``customers``; False, with nothing written, when one of them
    conflicts with a stored customer (created meanwhile by another writer).

    A third less of the database's work than the staging path (21 instead of 30 us a row):
    the rows are written once, and no conflict is looked for row by row.
    """
    try:
        async with conn.savepoint():
            await conn.copy(customers.name, NAMES, creates)
    except asyncpg.UniqueViolationError:
        return False
    return True


async def write(conn: Tx, creates: list[Record], updates: list[Record]) -> set[str]:
    """Insert ``creates`` unless they conflict and write ``updates``; returns the inserted."""
    if not creates and not updates:
        return set()
    await conn.execute(_CREATE)
    await conn.copy(staging.name, NAMES, [*creates, *updates])
    inserted: set[str] = set()
    if creates:
        inserted = {row[0] for row in await conn.fetch(_INSERT)}
    if updates:
        await conn.execute(_UPDATE)
    await conn.execute(_EMPTY)
    return inserted

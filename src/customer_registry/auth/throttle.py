"""Failed token requests, counted per attempted client id and per source address.

After ``token_failures_per_client`` failures for one client id, or
``token_failures_per_address`` from one address, within a window of
``token_failure_window_seconds`` (the window opens at its first failure), every token request
of that client id or address is refused until the window ends, whatever its secret: a guess
that happens to be right must look no different from a wrong one. The counts are rows of the
database, so every process and every replica shares them.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from customer_registry.config import Settings
from customer_registry.db import Sql, Tx, token_failures

_f = token_failures.c


@dataclass(frozen=True, slots=True)
class Subjects:
    """What one token request's failures count against."""

    client: str
    address: str

    @classmethod
    def of(cls, client_id: str, address: str) -> "Subjects":
        return cls(_digest("client", client_id), _digest("address", address))

    @classmethod
    def of_operator(cls, name: str, address: str) -> "Subjects":
        """The console's sign-ins: counted apart from token requests."""
        return cls(_digest("operator", name), _digest("console-address", address))

    def params(self) -> dict[str, str]:
        return {"client": self.client, "address": self.address}


def _digest(kind: str, value: str) -> str:
    # Fixed length whatever the client sent; "surrogatepass": any string a JSON body can hold.
    return hashlib.sha256(f"{kind}\0{value}".encode(errors="surrogatepass")).hexdigest()


_BLOCKED_UNTIL = Sql(
    select(_f.window_ends_at)
    .where(
        or_(
            and_(_f.subject == bindparam("client"), _f.failures >= bindparam("client_limit")),
            and_(_f.subject == bindparam("address"), _f.failures >= bindparam("address_limit")),
        ),
        _f.window_ends_at > bindparam("now"),
    )
    .order_by(_f.window_ends_at.desc())
    .limit(1)
)


async def blocked_for(conn: Tx, subjects: Subjects, settings: Settings) -> int | None:
    """Whole seconds until ``subjects`` may try again; None when they may now."""
    return await blocked_at(
        conn,
        subjects,
        client_limit=settings.token_failures_per_client,
        address_limit=settings.token_failures_per_address,
    )


async def blocked_at(
    conn: Tx, subjects: Subjects, *, client_limit: int, address_limit: int
) -> int | None:
    """``blocked_for`` with limits of its own (the first subject's, the address's)."""
    now = datetime.now(UTC)
    limits = {"client_limit": client_limit, "address_limit": address_limit}
    until: datetime | None = await conn.fetchval(
        _BLOCKED_UNTIL, {**subjects.params(), **limits, "now": now}
    )
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def _count(insert: postgresql.Insert | sqlite.Insert) -> postgresql.Insert | sqlite.Insert:
    expired = _f.window_ends_at <= bindparam("now")
    return insert.on_conflict_do_update(
        index_elements=[_f.subject],
        set_={
            "failures": case((expired, 1), else_=_f.failures + 1),
            "window_ends_at": case(
                (expired, insert.excluded.window_ends_at), else_=_f.window_ends_at
            ),
        },
    )


_COUNT_FAILURE = Sql(
    _count(postgresql.insert(token_failures)), _count(sqlite.insert(token_failures))
)


async def count_failure(conn: Tx, subjects: Subjects, *, window_seconds: int) -> None:
    """One more failure of each subject: in the current window, or the first of a new one."""
    now = datetime.now(UTC)
    ends = now + timedelta(seconds=window_seconds)
    for subject in (subjects.client, subjects.address):
        values = {"subject": subject, "failures": 1, "window_ends_at": ends, "now": now}
        await conn.execute(_COUNT_FAILURE, values)


_PURGE = Sql(
    delete(token_failures)
    .where(
        _f.subject.in_(
            select(_f.subject)
            .where(_f.window_ends_at <= bindparam("now"))
            .limit(bindparam("batch"))
            .scalar_subquery()
        )
    )
    .returning(_f.subject)
)


async def purge_expired(conn: Tx, *, batch: int) -> int:
    """Delete up to ``batch`` counts whose window has ended; return how many."""
    return len(await conn.fetch(_PURGE, {"now": datetime.now(UTC), "batch": batch}))

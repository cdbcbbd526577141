"""Liveness and readiness probes: no authentication, no personal data."""

import sqlite3

import structlog
from asyncpg.exceptions import UndefinedTableError
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from customer_registry import migrations
from customer_registry.db import Sql, Tx
from customer_registry.errors import ConfigurationError
from customer_registry.ops import key_checks
from customer_registry.runtime import AppRuntime
from customer_registry.vault import Vault

router = APIRouter(tags=["Health"])
logger = structlog.get_logger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


_PING = Sql(text("SELECT 1"))
_REVISIONS = Sql(text("SELECT version_num FROM alembic_version"))


async def _revisions(conn: Tx) -> frozenset[str]:
    """The database's Alembic revisions; none when it was never migrated."""
    try:  # outside a transaction: a missing table aborts nothing
        return frozenset(row[0] for row in await conn.fetch(_REVISIONS))
    except (UndefinedTableError, sqlite3.OperationalError):
        return frozenset()


def _unready(failed: str, detail: str, **log_fields: str) -> JSONResponse:
    logger.warning("not ready", failed=failed, **log_fields)
    body = {"status": "unavailable", "failed": failed, "detail": detail}
    return JSONResponse(body, status_code=503)


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


@router.get(
    "/readyz",
    responses={
        503: {
            "description": "The database is unreachable, not at the code's revision, or "
            "holds data sealed with keys the key file lacks"
        }
    },
)
async def readyz(state: AppRuntime) -> JSONResponse:
    """The database answers, carries the schema revision this code expects, and the key file
    holds every key its data needs."""
    database = state.database
    try:
        async with database.reading() as conn:
            await conn.fetchval(_PING)
            found = await _revisions(conn)
            ready = found == migrations.heads()
            expected_keys = await key_checks.expected_keys(conn) if ready else {}
    except Exception as exc:
        # The type only: a connection error's message can quote the URL, password included.
        return _unready("database", "the database does not answer", exc_type=type(exc).__name__)
    expected = migrations.heads()
    if found != expected:
        detail = f"the database is at revision {_names(found)}, this code needs {_names(expected)}"
        return _unready("migrations", detail)
    problem = _key_problem(state.vault, expected_keys)
    return _unready("keys", problem) if problem else JSONResponse({"status": "ok"})


def _key_problem(vault: Vault, expected: dict[str, str]) -> str | None:
    try:
        vault.refresh()  # an operator may have replaced the key file since the start
        key_checks.require_keys(vault, expected)
    except (ConfigurationError, OSError) as exc:
        return getattr(exc, "message", str(exc))
    return None

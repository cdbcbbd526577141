"""Liveness and readiness probes: no authentication, no personal data."""

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from customer_registry import migrations

router = APIRouter(tags=["Health"])
logger = structlog.get_logger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


async def _revisions(conn: AsyncConnection) -> frozenset[str]:
    """The database's Alembic revisions; none when it was never migrated."""
    # Looking first keeps a missing table from aborting the transaction (PostgreSQL).
    if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return frozenset()
    result = await conn.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(result.scalars())


def _unready(failed: str, detail: str, **log_fields: str) -> JSONResponse:
    logger.warning("not ready", failed=failed, **log_fields)
    body = {"status": "unavailable", "failed": failed, "detail": detail}
    return JSONResponse(body, status_code=503)


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


@router.get(
    "/readyz",
    responses={503: {"description": "The database is unreachable or not at the code's revision"}},
)
async def readyz(request: Request) -> JSONResponse:
    """The database answers and carries the schema revision this code expects."""
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            found = await _revisions(conn)
    except Exception as exc:
        # The type only: a connection error's message can quote the URL, password included.
        return _unready("database", "the database does not answer", exc_type=type(exc).__name__)
    expected = migrations.heads()
    if found != expected:
        detail = f"the database is at revision {_names(found)}, this code needs {_names(expected)}"
        return _unready("migrations", detail)
    return JSONResponse({"status": "ok"})

"""SQLAlchemy Core statements compiled once into the SQL text each driver takes.

Statements are written with Core (the tables' metadata, the dialects' rendering) and run on
the driver itself: asyncpg takes ``$n`` positional parameters, sqlite3 ``:name`` ones.
Compiling a statement costs more than PostgreSQL spends answering it, so a statement that
runs per request is compiled once per process, at its first use.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]

_DIALECTS = {
    "postgresql": asyncpg.dialect(),  # type: ignore[no-untyped-call]  # untyped upstream
    "sqlite": sqlite.dialect(paramstyle="named"),
}


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement's SQL text for one dialect and how its parameters are passed."""

    text: str
    names: tuple[str, ...]  # PostgreSQL's positional order
    fixed: dict[str, Any]  # values written into the statement (``column == 5``)

    def positional(self, params: Params | None) -> list[Any]:
        values = self.named(params)
        return [values[name] for name in self.names]

    def named(self, params: Params | None) -> Params:
        return {**self.fixed, **params} if self.fixed and params else params or self.fixed


def _compile(statement: ClauseElement, dialect: str) -> Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECTS[dialect]))
    fixed = {
        name: value
        for name, value in compiled.params.items()
        if name in compiled.binds and not compiled.binds[name].required
    }
    return Compiled(compiled.string, tuple(compiled.positiontup or ()), fixed)


class Sql:
    """A statement, or one per dialect where they differ, compiled at its first use."""

    __slots__ = ("_compiled", "_statements")

    def __init__(self, statement: ClauseElement, sqlite: ClauseElement | None = None) -> None:
        self._statements = {
            "postgresql": statement,
            "sqlite": statement if sqlite is None else sqlite,
        }
        self._compiled: dict[str, Compiled] = {}

    def statement(self, dialect: str) -> ClauseElement:
        """The statement this one runs on ``dialect``."""
        return self._statements[dialect]

    def compiled(self, dialect: str) -> Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = _compile(self._statements[dialect], dialect)
        return found


Statement = Sql | ClauseElement


def compiled(statement: Statement, dialect: str) -> Compiled:
    """``statement`` for ``dialect``; a bare Core statement (cold paths) compiles each time."""
    if isinstance(statement, Sql):
        return statement.compiled(dialect)
    return _compile(statement, dialect)


Rows = Sequence[Params]

"""What list commands print on stdout: aligned columns, or JSON with ``--json``."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of columns.")]


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned by their widest value; values are never cut to the terminal's width,
    so ids copied from the output (or read by a script from a pipe) are whole."""
    widths = [
        max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(columns)
    ]
    for line in (columns, *rows):
        typer.echo(
            "  ".join(
                value.ljust(width) for value, width in zip(line, widths, strict=True)
            ).rstrip()
        )


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


def utc(moment: datetime) -> str:
    """An instant in UTC with its offset, the API's form: ``2024-05-01T09:30:00+00:00``."""
    return moment.astimezone(UTC).isoformat()


def utc_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else utc(moment)

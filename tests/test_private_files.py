"""Files that hold personal data are readable by their owner only, like the key file."""

import stat
from pathlib import Path

import httpx
import pytest

from customer_registry import migrations
from tests.horizon.conftest import person, put
from tests.test_bulk import horizon_row, import_file, run_cli, write_rows


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_export_files_and_import_reports_are_private(
    env: dict[str, str], horizon: httpx.AsyncClient, client_id: int, tmp_path: Path
) -> None:
    await put(horizon, client_id, "c1", person())
    exported = tmp_path / "customers.jsonl"
    source = write_rows(tmp_path / "rows.jsonl", [horizon_row("c2")])

    export = await run_cli(env, "export", "--client-id", str(client_id), "--output", str(exported))
    imported, report = await import_file(env, source, client_id, "--dialect", "horizon")

    assert (export.exit_code, imported.exit_code, len(report)) == (0, 0, 1)
    assert _mode(exported) == 0o600
    assert _mode(source.with_suffix(".report")) == 0o600


def test_a_new_sqlite_database_and_its_journal_are_private(
    tmp_path: Path, key_file: Path, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite file of its own")
    database = tmp_path / "new.db"

    migrations.upgrade(f"sqlite+aiosqlite:///{database}", key_file=key_file)

    files = [database, *tmp_path.glob("new.db-*")]
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}

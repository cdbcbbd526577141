"""``import`` tells what went wrong without being asked for a report."""

from pathlib import Path

from tests.horizon.conftest import person
from tests.test_bulk import horizon_row, run_cli, write_rows


async def test_rejected_rows_are_told_on_stderr_without_a_report(
    env: dict[str, str], tmp_path: Path, client_id: int
) -> None:
    no_name = horizon_row("h2", person={"lastName": "Customer"})
    bad_country = horizon_row("h3", address={**person()["address"], "countryCode": "XX"})
    rows = [horizon_row("h1"), "{not json", no_name, bad_country]
    path = write_rows(tmp_path / "rows.jsonl", rows)

    args = ["import", str(path), "--client-id", str(client_id), "--dialect", "horizon"]
    result = await run_cli(env, *args)

    assert result.exit_code == 1
    told = [line for line in result.stderr.splitlines() if ": rejected: " in line]
    assert [line.split(":")[0] for line in told] == ["line 2", "line 3", "line 4"]
    assert "address.countryCode" in told[2]
    assert "--report" in result.stderr
    assert list(tmp_path.iterdir()) == [path]


async def test_a_file_that_is_not_in_the_format_named_is_refused(
    env: dict[str, str], tmp_path: Path, client_id: int
) -> None:
    jsonl = write_rows(tmp_path / "rows.jsonl", [horizon_row("h1")])
    csv = tmp_path / "rows.txt"
    csv.write_text("customerNumber,person.firstName\nc1,Tom\n")

    as_csv = await run_cli(
        env, "import", str(jsonl), "--client-id", str(client_id), "--format", "csv"
    )
    as_jsonl = await run_cli(env, "import", str(csv), "--client-id", str(client_id))

    assert (as_csv.exit_code, as_jsonl.exit_code) == (2, 2)
    assert "looks like JSON Lines, not CSV: use --format jsonl" in as_csv.stderr
    assert "looks like CSV, not JSON Lines: use --format csv" in as_jsonl.stderr

"""``personal-data erase``: one customer or a list, a dry run first, safe to run again."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.horizon.conftest import customer_url
from tests.privacy.conftest import PERSON, write_twice


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    run = [sys.executable, "-m", "customer_registry", "personal-data", *args]
    return subprocess.run(run, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def _report(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


@pytest.mark.slow
async def test_a_dry_run_shows_what_would_go_and_erases_nothing(
    horizon: httpx.AsyncClient, client_id: int, env: dict[str, str]
) -> None:
    await write_twice(horizon, client_id, "p1")

    (planned,) = _report(_cli(env, "erase", "--client-id", str(client_id),
                              "--customer-number", "p1", "--dry-run", "--json"))  # fmt: skip

    assert planned["outcome"] == "would be erased"
    assert {"ssn", "firstName", "email", "street"} <= set(planned["fields"])
    assert (planned["historyEntries"], planned["events"]) == (2, 2)
    assert (await horizon.get(customer_url(client_id, "p1"))).status_code == 200


@pytest.mark.slow
async def test_a_list_is_erased_with_a_report_and_a_second_run_finds_nothing(
    horizon: httpx.AsyncClient, client_id: int, env: dict[str, str], tmp_path: Path
) -> None:
    for number in ("p1", "p2"):
        await horizon.put(customer_url(client_id, number), json=PERSON)
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("# erasure requests of the week\np1\n\np2\nnever-stored\n")
    erase = ("erase", "--client-id", str(client_id), "--file", str(numbers), "--json")

    first = _report(_cli(env, *erase))
    second = _report(_cli(env, *erase))

    assert [(i["customerNumber"], i["outcome"]) for i in first] == [
        ("p1", "erased"),
        ("p2", "erased"),
        ("never-stored", "not found"),
    ]
    assert {i["outcome"] for i in second} == {"not found"}
    for number in ("p1", "p2"):
        assert (await horizon.get(customer_url(client_id, number))).status_code == 404
    erasures = json.loads(_cli(env, "erasures", "--client-id", str(client_id), "--json").stdout)
    (p1,) = [e for e in erasures["items"] if e["customerNumber"] == "p1"]
    assert p1["source"] == "registry"
    assert {"type", "firstName", "ssn"} <= set(p1["history"][0]["fields"])
    assert p1["accesses"] == []
    assert "Gudrun" not in json.dumps(erasures)


@pytest.mark.slow
def test_one_unknown_customer_fails_with_exit_code_1(client_id: int, env: dict[str, str]) -> None:
    result = _cli(env, "erase", "--client-id", str(client_id), "--customer-number", "nobody")

    assert result.returncode == 1
    assert "not found" in result.stdout

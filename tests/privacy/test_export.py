"""A subject access request answered in one call: everything about the customer, in clear."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from customer_registry.auth import credentials
from tests.privacy.conftest import WRITTEN, json_of, personal_data_url, write_twice
from tests.subscriptions.conftest import CUSTOMERS, seed_post


async def test_the_export_holds_every_value_ever_written_through_either_api(
    both: httpx.AsyncClient, client_id: int
) -> None:
    await write_twice(both, client_id, "p1")
    sub_put = seed_post(customerNumber="p1", email="ray@example.com")
    response = await both.put(f"{CUSTOMERS}/p1", json=sub_put)
    assert response.status_code == 200, response.text

    document = json_of(await both.get(personal_data_url(client_id, "p1")))

    text = json.dumps(document)
    for value in [*WRITTEN, "ray@example.com", "700XXX651", "12345678L", "1984-11-11"]:
        assert value in text, value
    assert document["customer"]["ssn"] == "700XXX651"  # in clear, not masked
    assert document["customer"]["email"] == "ray@example.com"
    assert document["representations"]["horizon"]["customerNumber"] == "p1"
    assert document["representations"]["subscriptions"]["customerNumber"] == "p1"
    assert [entry["version"] for entry in document["history"]] == [1, 2, 3]
    assert all(entry["changedAt"] for entry in document["history"])
    assert [event["version"] for event in document["events"]] == [1, 2, 3]


async def test_an_export_is_recorded_as_an_access_without_the_data(
    horizon: httpx.AsyncClient, client_id: int, credential: credentials.IssuedCredential
) -> None:
    await write_twice(horizon, client_id, "p1")
    url = personal_data_url(client_id, "p1")
    first = await horizon.get(url, headers={"X-Request-ID": "dsar-1"})
    assert first.headers["cache-control"] == "no-store"

    accesses = json_of(await horizon.get(url))["accesses"]

    assert len(accesses) == 1
    assert accesses[0]["by"] == f"credential {credential.credential_id}"
    assert accesses[0]["what"] == ["personal-data export"]
    assert accesses[0]["requestId"] == "dsar-1"
    assert "Gudrun" not in json.dumps(accesses)


async def test_an_export_of_an_unknown_customer_is_a_problem(
    horizon: httpx.AsyncClient, client_id: int
) -> None:
    missing = await horizon.get(personal_data_url(client_id, "nobody"))

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_the_cli_writes_the_same_export_to_a_private_file(
    env: dict[str, str], tmp_path: Path, exported_customer: tuple[int, dict[str, object]]
) -> None:
    client_id, from_api = exported_customer
    target = tmp_path / "export.json"

    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", "personal-data", "export",
         "--client-id", str(client_id), "--customer-number", "p1", "--output", str(target)],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = json.loads(target.read_text())
    assert written["customer"] == from_api["customer"]
    assert written["history"] == from_api["history"]
    assert [access["by"][:11] for access in written["accesses"]] == ["credential "]

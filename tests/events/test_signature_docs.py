"""docs/events.md's signature recipes work as written: openssl agrees with the deliverer's
signature, and curl's signed request passes the standardwebhooks verification."""

import asyncio
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
from standardwebhooks import Webhook

from customer_registry.events.sending import new_secret, signature
from tests.events.receiver import Receiver

DOC = Path(__file__).parent.parent.parent / "docs" / "events.md"
EVENT = {"id": "evt_doc", "type": "customer.updated", "customerNumber": "ö-1", "version": 2}


def _recipe(first_line: str) -> str:
    blocks = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(), flags=re.MULTILINE | re.DOTALL)
    (found,) = [block for block in blocks if block.startswith(first_line)]
    return str(found)


def _run(script: str, directory: Path, **env: str) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={"PATH": os.environ["PATH"], **env},
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_openssl_recipe_verifies_a_delivery_and_refuses_a_changed_one(
    tmp_path: Path,
) -> None:
    secret, body = new_secret(), orjson.dumps(EVENT)
    timestamp = int(time.time())
    headers = {
        "WEBHOOK_ID": "evt_doc",
        "WEBHOOK_TIMESTAMP": str(timestamp),
        "WEBHOOK_SIGNATURE": signature(secret, "evt_doc", timestamp, body),
        "SECRET": secret,
    }
    (tmp_path / "body.json").write_bytes(body)
    valid = _run(_recipe("# verify"), tmp_path, **headers)
    (tmp_path / "body.json").write_bytes(body.replace(b'"version":2', b'"version":3'))
    changed = _run(_recipe("# verify"), tmp_path, **headers)

    assert valid == "valid\n"
    assert changed == "INVALID\n"


async def test_the_curl_recipe_sends_a_request_standard_webhooks_verifies(
    tmp_path: Path,
) -> None:
    secret = new_secret()
    (tmp_path / "body.json").write_bytes(orjson.dumps(EVENT))
    async with Receiver() as receiver:
        env = {"RECEIVER_URL": receiver.url, "SECRET": secret}
        await asyncio.to_thread(_run, _recipe("# send"), tmp_path, **env)

    (request,) = receiver.received
    verified: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    assert verified == EVENT


def test_the_standard_library_recipe_verifies_a_delivery() -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), flags=re.MULTILINE | re.DOTALL)
    (recipe,) = [block for block in blocks if "def verified" in block]
    namespace: dict[str, Any] = {}
    exec(recipe, namespace)
    secret, body, timestamp = new_secret(), orjson.dumps(EVENT), int(time.time())
    headers = {
        "webhook-id": "evt_doc",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1,bm90IGl0 " + signature(secret, "evt_doc", timestamp, body),
    }

    assert namespace["verified"](secret, body, headers)
    assert not namespace["verified"](secret, body + b" ", headers)
    assert not namespace["verified"](new_secret(), body, headers)

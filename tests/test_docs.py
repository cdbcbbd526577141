"""The documentation works as written: docs/api.md runs top to bottom, README finds every doc."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from customer_registry.config import Settings
from tests.conftest import running_server

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
# The address the docs give; the test's server listens elsewhere.
DOCUMENTED_BASE = "http://127.0.0.1:8000"


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def _failing_curl(directory: Path) -> Path:
    """A ``curl`` that fails on an HTTP error, as the doc's requests must never get one."""
    directory.mkdir()
    shim = directory / "curl"
    shim.write_text(f'#!/bin/sh\nexec {shutil.which("curl")} --fail-with-body "$@"\n')
    shim.chmod(0o755)
    return directory


@pytest.mark.slow
def test_api_quick_start_runs_as_written(
    database_url: str, key_file: Path, env: dict[str, str], tmp_path: Path
) -> None:
    script = "\n".join(shell_blocks((DOCS / "api.md").read_text()))
    assert f"export BASE={DOCUMENTED_BASE}\n" in script
    path = f"{_failing_curl(tmp_path / 'bin')}:{Path(sys.executable).parent}:/usr/bin:/bin"
    with running_server(database_url, key_file, tmp_path) as base:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace(DOCUMENTED_BASE, base)],
            env={**env, "PATH": path, "HOME": str(tmp_path)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every request answered 2xx (the curl above); the last, the Subscriptions PUT, with the
    # customer's sign-up.
    assert result.stdout.endswith('"externalCustomerReference":"c1631704458","contracts":[]}')


def test_readme_links_every_doc() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in sorted(DOCS.glob("*.md")):
        assert f"](docs/{doc.name})" in readme, f"README does not link docs/{doc.name}"


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"| `CUSTOMER_REGISTRY_{name.upper()}` |" in readme, name

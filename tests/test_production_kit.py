"""What a deployment starts from: licence, changelog, Dockerfile (checked without Docker)."""

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from customer_registry.config import Settings

ROOT = Path(__file__).parent.parent


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def _values(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [argument for instruction, argument in stage if instruction == name]


def _environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    pairs = [word.split("=", 1) for env in _values(stage, "ENV") for word in shlex.split(env)]
    return dict(pairs)


def test_licence_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert declared == "Apache-2.0"
    licence = (ROOT / "LICENSE").read_text()
    assert "Apache License" in licence
    assert "Version 2.0, January 2004" in licence


def test_changelog_has_upgrade_notes_for_this_version_and_what_comes() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = re.split(r"^## ", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)[1:]
    names = [release.splitlines()[0] for release in releases]
    assert names[:2] == ["Unreleased", version]
    for release in releases:
        assert "### Upgrade notes" in release, release.splitlines()[0]


def test_dockerfile_builds_in_one_stage_and_runs_in_another() -> None:
    stages = _stages()
    assert len(stages) >= 2
    built_in = stages[0][0][1].split()[-1]
    assert any(f"--from={built_in}" in copy for copy in _values(stages[-1], "COPY"))


def test_dockerfile_installs_the_package_as_the_readme_does() -> None:
    assert "pip install . &&" in (ROOT / "README.md").read_text()
    build = _stages()[0]
    assert [run for run in _values(build, "RUN") if re.search(r"pip install .*\s\.$", run)]
    copied = " ".join(_values(build, "COPY"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # What the package's build reads: its metadata, readme, licence and source.
    for needed in ("pyproject.toml", pyproject["readme"], "LICENSE", "src"):
        assert needed in copied.split(), f"the build stage does not copy {needed}"
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for needed in ("pyproject.toml", pyproject["readme"], "LICENSE", "src/"):
        assert f"!{needed}" in ignored, f".dockerignore leaves out {needed}"


def test_dockerfile_runs_serve_as_a_user_that_is_not_root() -> None:
    final = _stages()[-1]
    users = _values(final, "USER")
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(users[-1] in run for run in _values(final, "RUN") if "useradd" in run)
    entrypoint = _values(final, "ENTRYPOINT")[-1]
    assert entrypoint.startswith('["customer-registry", "serve"')


@pytest.mark.slow
def test_dockerfile_settings_and_serve_arguments_are_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    final = _stages()[-1]
    settings = {k: v for k, v in _environment(final).items() if k.startswith("CUSTOMER_REGISTRY_")}
    assert settings["CUSTOMER_REGISTRY_KEY_FILE"].startswith("/run/secrets/")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    Settings()
    entrypoint = json.loads(_values(final, "ENTRYPOINT")[-1])
    command = [*entrypoint, *json.loads(_values(final, "CMD")[-1]), "--help"]
    command[0] = str(Path(sys.executable).parent / command[0])
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0

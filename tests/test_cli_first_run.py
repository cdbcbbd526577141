"""What a newcomer meets first: which database a command uses, settings it refuses, --help."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from customer_registry.auth import callers
from customer_registry.cli import app
from customer_registry.cli.app import MAX_CLIENT_ID
from tests.conftest import new_client_id

runner = CliRunner()


def _without_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_REGISTRY_")}


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "customer_registry", *args],
        env={**_without_settings(), **env},
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
def test_a_command_names_the_database_and_key_file_of_its_directory(tmp_path: Path) -> None:
    created = _run("credentials", "create", "--client-id", "5", "--json", cwd=tmp_path)

    assert created.returncode == 0, created.stderr
    assert f"database: sqlite+aiosqlite:///{tmp_path}/customer-registry.db" in created.stderr
    assert f"key file: {tmp_path}/customer-registry.key" in created.stderr
    assert set(json.loads(created.stdout)) >= {"oauthClientId", "oauthClientSecret"}


def test_the_database_named_hides_its_password() -> None:
    url = "postgresql+asyncpg://registry:s3cret@127.0.0.1:1/registry"
    result = runner.invoke(app, ["clients", "list"], env={"CUSTOMER_REGISTRY_DATABASE_URL": url})

    assert "database: postgresql+asyncpg://registry:***@127.0.0.1:1/registry" in result.stderr
    assert "s3cret" not in result.output


def test_the_token_request_shown_names_the_server_url(env: dict[str, str]) -> None:
    args = ["credentials", "create", "--client-id", str(new_client_id())]
    result = runner.invoke(app, [*args, "--server-url", "http://127.0.0.1:9123"], env=env)

    assert result.exit_code == 0, result.output
    assert "curl -X POST http://127.0.0.1:9123/oauth/token" in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("CUSTOMER_REGISTRY_LOG_LEVEL", "verbose", "debug, info, warning, error, critical"),
        ("CUSTOMER_REGISTRY_TOKEN_TTL_SECONDS", "10", "an integer >= 60 and <= 2678400"),
        ("CUSTOMER_REGISTRY_DB_POOL_SIZE", "many", "an integer >= 1 and <= 200"),
    ],
)
def test_an_invalid_setting_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, allowed: str
) -> None:
    result = _run("clients", "list", cwd=tmp_path, **{variable: value})

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert f"{variable}={value!r}" in line
    assert allowed in line
    assert not (tmp_path / "customer-registry.db").exists()


@pytest.mark.slow
def test_a_key_file_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / "missing" / "registry.key"
    result = _run("migrate", cwd=tmp_path, CUSTOMER_REGISTRY_KEY_FILE=str(key_file))

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert f"CUSTOMER_REGISTRY_KEY_FILE={key_file}" in line
    assert "does not exist" in line


def _commands() -> list[list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", "from customer_registry.cli import app; import typer;"
         "import json; c = typer.main.get_command(app);"
         "print(json.dumps([[n, *(sorted(s.commands) if hasattr(s, 'commands') else [])]"
         " for n, s in c.commands.items()]))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: list[list[str]] = [[]]
    for name, *subcommands in json.loads(result.stdout):
        found += [[name]] + [[name, sub] for sub in subcommands]
    return found


_HELP_PROBE = """
import sys
from customer_registry.cli import main
sys.argv = ["customer-registry", *sys.argv[1:], "--help"]
try:
    main()
except SystemExit:
    pass
heavy = ("fastapi", "sqlalchemy", "alembic", "uvicorn", "asyncpg", "starlette")
print(sorted(name for name in heavy if name in sys.modules), file=sys.stderr)
"""


@pytest.mark.slow
def test_help_loads_no_web_or_database_library() -> None:
    loaded = {}
    for command in _commands():
        probe = subprocess.run(
            [sys.executable, "-c", _HELP_PROBE, *command], capture_output=True, text=True
        )
        assert "Usage: customer-registry" in probe.stdout
        loaded[" ".join(command)] = probe.stderr.strip().splitlines()[-1]

    assert len(loaded) > 15
    assert set(loaded.values()) == {"[]"}, loaded


@pytest.mark.slow
def test_help_texts_have_no_markup(tmp_path: Path) -> None:
    for command in _commands():
        text = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "100"}).stdout
        assert "`" not in text, command
        assert "[bold]" not in text, command


def test_the_cli_bounds_client_ids_as_the_api_does() -> None:
    assert MAX_CLIENT_ID == callers.MAX_CLIENT_ID

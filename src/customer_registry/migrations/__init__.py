"""Alembic migrations, shipped inside the package so that an installed wheel can migrate."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def alembic_config(database_url: str, key_file: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["database_url"] = database_url
    config.attributes["key_file"] = key_file
    return config


def upgrade(database_url: str, revision: str = "head", *, key_file: Path | None = None) -> None:
    """Bring the database to ``revision``. Runs its own event loop: call it from sync code.

    Data migrations that encrypt personal data use ``key_file`` (default: the setting's).
    """
    command.upgrade(alembic_config(database_url, key_file), revision)


def downgrade(database_url: str, revision: str, *, key_file: Path | None = None) -> None:
    command.downgrade(alembic_config(database_url, key_file), revision)


@cache
def heads() -> frozenset[str]:
    """The newest revisions shipped with this code: what a ready database must be at."""
    return frozenset(ScriptDirectory(str(Path(__file__).parent)).get_heads())

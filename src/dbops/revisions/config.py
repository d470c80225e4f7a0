"""The Alembic configuration and script directory of a schema (no ``alembic.ini`` needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbops.config import SchemaSettings, Settings, sqlalchemy_url
from dbops.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


def alembic_config(settings: Settings, schema: SchemaSettings, url: str | None = None) -> Config:
    """An Alembic Config for a schema's environment.

    ``config.attributes`` carries the schema and settings to the shared
    ``env.py`` (:mod:`dbops.revisions.env`).
    """
    from alembic.config import Config

    location = schema.migrations_path(settings.root)
    if not (location / "env.py").is_file():
        raise ConfigError(
            f"no Alembic environment at {location} (env.py missing)",
            hint=f"check tool.dbops.schemas.{schema.name}.migrations in pyproject.toml",
        )
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(location / "versions"))
    config.attributes["dbops_schema"] = schema
    config.attributes["dbops_settings"] = settings
    if url:
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def script_directory(settings: Settings, schema: SchemaSettings) -> ScriptDirectory:
    """Alembic's view of the schema's ``versions/`` folder (revision files are loaded on first walk)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(settings, schema))

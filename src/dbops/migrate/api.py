"""Programmatic migration API (Alembic's ``command`` module, the dbops way)."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from dbops.config import SchemaSettings, Settings, sqlalchemy_url
from dbops.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config


def advisory_lock_key(schema: str) -> int:
    """A stable 32-bit key for ``pg_advisory_lock`` per schema.

    >>> advisory_lock_key("healthcare") == advisory_lock_key("healthcare")
    True
    """
    return zlib.crc32(f"dbops:migrate:{schema}".encode())


def alembic_config(settings: Settings, schema: SchemaSettings, url: str | None = None) -> Config:
    """An Alembic Config for a schema's environment (no alembic.ini needed)."""
    from alembic.config import Config

    location = schema.migrations_path(settings.root)
    if not (location / "env.py").is_file():
        raise ConfigError(
            f"no Alembic environment at {location} (env.py missing)",
            hint=f"check tool.dbops.schemas.{schema.name}.migrations in pyproject.toml",
        )
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("version_locations", str(location / "versions"))
    config.attributes["dbops_schema"] = schema
    config.attributes["dbops_settings"] = settings
    if url:
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def head_revisions(settings: Settings, schema: SchemaSettings) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(settings, schema)).get_heads())


def current_revision(url: str) -> tuple[str, ...]:
    """The revisions recorded in ``alembic_version`` (empty when none)."""
    from dbops.db import connection

    with connection(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()[0]
        if not exists:
            return ()
        return tuple(r[0] for r in conn.execute("SELECT version_num FROM alembic_version ORDER BY 1"))


def upgrade(settings: Settings, schema: SchemaSettings, url: str, revision: str = "head") -> list[str]:
    """Apply pending revisions up to ``revision`` under a per-schema advisory lock.

    Returns the revisions applied (empty when already up to date).
    """
    from alembic import command

    from dbops.db import create_engine

    config = alembic_config(settings, schema, url)
    before = current_revision(url)
    engine = create_engine(url, poolclass=_null_pool())
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({advisory_lock_key(schema.name)})")
            connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            finally:
                connection.rollback()
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({advisory_lock_key(schema.name)})")
                connection.commit()
    finally:
        engine.dispose()
    after = current_revision(url)
    return _applied_between(settings, schema, before, after)


def _applied_between(settings: Settings, schema: SchemaSettings, before: tuple[str, ...], after: tuple[str, ...]) -> list[str]:
    if before == after:
        return []
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(settings, schema))
    lower = before[0] if before else None
    revs = [r.revision for r in script.iterate_revisions(after[0] if after else "base", lower or "base")]
    return [r for r in reversed(revs) if r != lower]


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool

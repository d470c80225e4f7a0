"""Configuration: ``[tool.dbops]`` settings and database URL resolution."""

from dbops.config.paths import display_path
from dbops.config.settings import (
    SCHEMA_NAMES,
    BudgetsSettings,
    DeploySettings,
    IndexesSettings,
    LocksSettings,
    PartitionsSettings,
    SchemaSettings,
    Settings,
    find_project_root,
    load_settings,
)
from dbops.config.urls import (
    ResolvedUrl,
    database_name,
    is_local_url,
    libpq_url,
    mask_url,
    resolve_url,
    sqlalchemy_url,
    url_endpoint,
    url_with_database,
)

__all__ = [
    "SCHEMA_NAMES",
    "BudgetsSettings",
    "DeploySettings",
    "IndexesSettings",
    "LocksSettings",
    "PartitionsSettings",
    "ResolvedUrl",
    "SchemaSettings",
    "Settings",
    "database_name",
    "display_path",
    "find_project_root",
    "is_local_url",
    "libpq_url",
    "load_settings",
    "mask_url",
    "resolve_url",
    "sqlalchemy_url",
    "url_endpoint",
    "url_with_database",
]

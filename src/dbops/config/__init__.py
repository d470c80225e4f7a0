"""Configuration: ``[tool.dbops]`` settings and database URL resolution."""

from dbops.config.project import display_path, import_project_file, line_in_traceback
from dbops.config.settings import (
    SCHEMA_NAMES,
    BudgetsSettings,
    DeploySettings,
    IndexesSettings,
    LocksSettings,
    PartitionsSettings,
    ScaleSettings,
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
    "ScaleSettings",
    "SchemaSettings",
    "Settings",
    "database_name",
    "display_path",
    "find_project_root",
    "import_project_file",
    "is_local_url",
    "libpq_url",
    "line_in_traceback",
    "load_settings",
    "mask_url",
    "resolve_url",
    "sqlalchemy_url",
    "url_endpoint",
    "url_with_database",
]

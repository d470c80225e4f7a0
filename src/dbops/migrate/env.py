"""The shared body of every schema's Alembic ``env.py``.

``migrations/<schema>/env.py`` is two lines that call ``run_environment``;
keeping the logic here means both schemas run their migrations the same way.
"""

from __future__ import annotations

import importlib
from typing import Any


def load_metadata(models_module: str) -> Any:
    """``Base.metadata`` of the schema's models module (None when not configured)."""
    if not models_module:
        return None
    module = importlib.import_module(models_module)
    base = getattr(module, "Base", None)
    return getattr(module, "metadata", None) or (base.metadata if base is not None else None)


def run_environment(context: Any) -> None:
    """Run migrations offline (SQL rendering) or online (on the given connection or URL)."""
    config = context.config
    schema = config.attributes.get("dbops_schema")
    target_metadata = load_metadata(schema.models) if schema is not None else None
    options: dict[str, Any] = {
        "target_metadata": target_metadata,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": True,
    }
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url") or "postgresql://", literal_binds=True,
                          dialect_name="postgresql", **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    from dbops.db import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()

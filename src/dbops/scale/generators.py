"""Which synthetic-data generator a schema uses: a plug-in named in its config, like its seed script.

``[tool.dbops.schemas.<name>] scale = "seeds/<name>_scale.py:Class"`` (a file of the
project) or ``"package.module:Class"`` (an importable module); the class is a
:class:`dbops.scale.common.SchemaData`. dbops itself knows no product's data.
"""

from __future__ import annotations

import importlib

from dbops.config import SchemaSettings, Settings, import_project_file
from dbops.errors import ConfigError, UsageError
from dbops.scale.common import SchemaData


def load_generator(settings: Settings, schema: SchemaSettings) -> type[SchemaData]:
    """The generator class configured for ``schema`` (UsageError when none, ConfigError/InputError when broken)."""
    where = str(settings.config_file) if settings.config_file else None
    key = f"tool.dbops.schemas.{schema.name}.scale"
    if not schema.scale:
        raise UsageError(f"no synthetic data generator for schema {schema.name!r}",
                         hint=f'set {key} = "seeds/{schema.name}_scale.py:Generator" '
                         "(a dbops.scale.SchemaData subclass)")
    target, _, attribute = schema.scale.rpartition(":")
    if not target or not attribute.isidentifier():
        raise ConfigError(f"{key} = {schema.scale!r} is not \"path/to/file.py:Class\" nor \"package.module:Class\"",
                          location=where, hint='e.g. "seeds/healthcare_scale.py:HealthcareData"')
    if target.endswith(".py") or "/" in target:
        module = import_project_file(settings.root / target, f"dbops_scale_{schema.name}",
                                     what="synthetic data generator", root=settings.root,
                                     missing_hint=f"create it or fix {key}")
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ConfigError(f"{key}: cannot import {target!r}: {exc}", location=where,
                              hint="check the module name (it must be importable)") from None
    generator = getattr(module, attribute, None)
    if not (isinstance(generator, type) and issubclass(generator, SchemaData)):
        raise ConfigError(f"{key}: {attribute!r} in {target} is not a dbops.scale.SchemaData subclass",
                          location=where, hint="name the generator class (it subclasses dbops.scale.SchemaData)")
    return generator

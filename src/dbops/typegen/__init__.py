"""``dbops generate``: the typed database-types module of each schema, from its models.

The guideline's ``@database/types``: one frozen, slotted dataclass per table
with the exact Python type and nullability of every column, and the native
enums as ``enum.StrEnum`` classes. Generated from the models' metadata (no
database needed), deterministic (byte-identical on rerun), ruff-clean.

``render_types(settings, schema)`` returns the module text;
``generate(settings, schema, check=False)`` writes it, or with ``check=True``
only reports whether the committed file is stale (with a unified diff).
"""

from dbops.typegen.api import GenerateResult, generate, render_types

__all__ = ["GenerateResult", "generate", "render_types"]

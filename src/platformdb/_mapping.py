"""Helpers shared by both schemas' mappers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def db_row(cls: type[T], mapping: Mapping[str, Any]) -> T:
    """A ``db_types`` dataclass from a row mapping (extra keys are ignored, missing ones are an error)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: mapping[name] for name in names})

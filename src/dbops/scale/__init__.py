"""Data at scale: ``seed_at_scale`` bulk-loads realistic synthetic data through binary COPY."""

from __future__ import annotations

from dbops.scale.seed import seed_at_scale

__all__ = ["seed_at_scale"]

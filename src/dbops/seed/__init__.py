"""Seed data: ``seeds/<schema>.py`` run in one transaction, and the admin password.

``seed(settings, schema, url, admin_password_hash=...)`` is ``dbops seed``;
``dbops seed --scale N`` is ``dbops.scale.seed_at_scale``.
"""

from dbops.seed.runner import AdminPassword, SeedResult, admin_password, hash_password, load_seed_script, seed
from dbops.seed.upsert import upsert

__all__ = ["AdminPassword", "SeedResult", "admin_password", "hash_password", "load_seed_script", "seed", "upsert"]

"""``dbops reset``: drop a schema's objects, migrate to head, seed — on dev databases only.

Guards (checked before anything is touched, in this order):

1. ``DBOPS_ENV=production`` (or ``prod``, ``live``; any case) → always refused, even with ``--force``;
2. unless ``--force``, a database that is not on this machine → refused, judged where libpq
   really connects (URL, ``PGHOST``/``PGHOSTADDR``/``PGSERVICE``…, then the connection
   itself: ``dbops.localdb.target.require_local``);
3. the CLI then asks the user to type the schema name unless ``--yes``.

On the local cluster the database is dropped and created again; elsewhere
``DROP SCHEMA public CASCADE; CREATE SCHEMA public`` (every table, type,
function, ``alembic_version`` and dbops' own bookkeeping live in ``public``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dbops.config import SchemaSettings, Settings
from dbops.db import connection
from dbops.errors import RefusedError
from dbops.localdb import local_cluster
from dbops.localdb.target import LocalGuard, require_local
from dbops.revisions import load_history, upgrade
from dbops.seed import SeedResult, load_seed_script, seed

Log = Callable[[str], None]


def _silent(_: str) -> None:
    pass


def check_reset_allowed(schema: str, url: str | None, *, local: bool = False, force: bool, production: bool = False,
                        settings: Settings | None = None) -> LocalGuard | None:
    """Raise RefusedError (exit 2) when resetting ``url`` is not allowed (see the module docstring).

    Returns the guard that confirms each connection (None for the local cluster not started yet:
    call again with its URL). ``local`` is informational: the local cluster's URL is judged too,
    since the environment (``PGHOSTADDR``…) could send it elsewhere.

    >>> check_reset_allowed("healthcare", None, force=False)
    >>> check_reset_allowed("healthcare", "postgresql://u@db.example.com/h", force=True).forced
    True
    >>> check_reset_allowed("healthcare", None, force=True, production=True)
    Traceback (most recent call last):
    ...
    dbops.errors.RefusedError: refusing to reset healthcare: DBOPS_ENV says this is production
    """
    del local
    if production:
        raise RefusedError(f"refusing to reset {schema}: DBOPS_ENV says this is production",
                           hint="reset is for dev databases; --force does not override DBOPS_ENV=production")
    if url is None:
        return None
    return require_local(url, action=f"reset {schema}", force=force, settings=settings)


@dataclass
class ResetResult:
    schema: str
    method: str = ""
    applied: list[str] = field(default_factory=list)
    seed: SeedResult | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "method": self.method, "applied": self.applied,
                "seed": self.seed.to_dict() if self.seed else None, "seconds": round(self.seconds, 3)}


def reset(settings: Settings, schema: SchemaSettings, url: str, *, local: bool, force: bool = False,
          production: bool = False, admin_password_hash: str | None, detect_admin: bool = True,
          env: Mapping[str, str] | None = None, log: Log = _silent) -> ResetResult:
    """Drop everything of ``schema`` at ``url``, migrate to head, seed (unless ``admin_password_hash`` is None).

    ``local``: ``url`` is the schema's database on dbops' local cluster.
    The confirmation prompt is the caller's (the CLI's) job.
    """
    guard = check_reset_allowed(schema.name, url, local=local, force=force, production=production, settings=settings)
    started = time.perf_counter()
    history = load_history(settings, schema)  # a broken revision history fails before anything is dropped …
    if admin_password_hash is not None:
        load_seed_script(settings, schema)  # … and so does a broken or missing seed script
    result = ResetResult(schema.name)
    if local:
        cluster = local_cluster(settings, env=env, log=log)
        cluster.drop_database(schema.database)
        url = cluster.ensure_database(schema.database)
        result.method = f"dropped and recreated database {schema.database} on the local cluster"
    else:
        _drop_public(url, guard)
        result.method = "dropped and recreated schema public"
    log(f"{schema.name}: {result.method}")
    result.applied = upgrade(settings, schema, url, log=log, history=history)
    log(f"{schema.name}: applied {len(result.applied)} revision(s)")
    if admin_password_hash is not None:
        result.seed = seed(settings, schema, url, admin_password_hash=admin_password_hash, check_head=False,
                           detect_admin=detect_admin, log=log)
    result.seconds = time.perf_counter() - started
    return result


def _drop_public(url: str, guard: LocalGuard | None) -> None:
    with connection(url, guard=guard) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
        conn.commit()

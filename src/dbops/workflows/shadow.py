"""The shadow database: a scratch database migrated to head from the revision files.

Like Prisma's shadow database, it is what the revision files say the schema
is, and nothing else: no partition detached by ``partitions ensure``, no
table made by hand, nothing ``seed --scale`` left behind. ``migrate create``
diffs the models against it; ``check all`` compares it with the models
(drift). It is created for one comparison and dropped right after.

Where it lives: on the server of ``admin_url`` when given (the dev
database's server for ``migrate create`` with an explicit URL: the same
PostgreSQL version and extensions as the dev database), else on the local
cluster (started when needed). A server that refuses ``CREATE DATABASE``
falls back to the local cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from dbops.config import SchemaSettings, Settings, mask_url, url_with_database
from dbops.localdb import create_database, drop_database, local_cluster
from dbops.revisions import upgrade

#: Prefix of every shadow database's name (``dbops_shadow_<schema>_<8 hex>``).
SHADOW_PREFIX = "dbops_shadow_"

Log = Callable[[str], None]


def _silent(_: str) -> None:
    pass


@contextmanager
def shadow_database(
    settings: Settings,
    schema: SchemaSettings,
    *,
    admin_url: str | None = None,
    env: Mapping[str, str] | None = None,
    log: Log = _silent,
) -> Iterator[str]:
    """Yield the URL of a new database migrated to head from ``schema``'s revision files; drop it after."""
    admin = _create_on(settings, schema, admin_url, env, log)
    name = admin[1]
    try:
        url = url_with_database(admin[0], name)
        upgrade(settings, schema, url)
        yield url
    finally:
        drop_database(admin[0], name)


def _create_on(
    settings: Settings, schema: SchemaSettings, admin_url: str | None, env: Mapping[str, str] | None, log: Log
) -> tuple[str, str]:
    """(admin URL, database name) of a freshly created shadow database."""
    import psycopg

    name = f"{SHADOW_PREFIX}{schema.name}_{uuid.uuid4().hex[:8]}"
    if admin_url is not None:
        try:
            create_database(admin_url, name)
            return admin_url, name
        except psycopg.errors.InsufficientPrivilege:
            log(f"{mask_url(admin_url)} does not allow CREATE DATABASE: the shadow database goes on the local cluster")
    admin = local_admin_url(settings, env)
    create_database(admin, name)
    return admin, name


def local_admin_url(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The local cluster's ``postgres`` database (the cluster is started when it is not running)."""
    cluster = local_cluster(settings, env=env)
    if not cluster.status().running:
        cluster.start()
    return cluster.url("postgres")

"""Run a schema's seed script (``seeds/<schema>.py``) in one transaction.

A seed script defines ``run(conn, *, admin_password_hash) -> dict[str, int]``
(rows per table) and upserts on natural keys, so a second run changes no row.
The admin password never appears in a file: it comes from
``DBOPS_ADMIN_PASSWORD``, or — on the local database only — is generated
and shown once; scripts receive only its bcrypt hash.
"""

from __future__ import annotations

import secrets
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dbops.config import SchemaSettings, Settings, display_path, import_project_file
from dbops.db import connection
from dbops.errors import ConfigError, DbopsError, InputError, OperationFailed, first_line
from dbops.revisions import database_state, load_history

PASSWORD_ENV = "DBOPS_ADMIN_PASSWORD"
BCRYPT_MAX_BYTES = 72

Log = Callable[[str], None]


def _silent(_: str) -> None:
    pass


@dataclass(frozen=True)
class AdminPassword:
    """The admin password to seed, and whether dbops generated it (then it must be shown once)."""

    password: str
    generated: bool

    def __repr__(self) -> str:  # never print the password by accident
        return f"AdminPassword(password='***', generated={self.generated})"


def admin_password(env: Mapping[str, str], *, local: bool) -> AdminPassword:
    """``DBOPS_ADMIN_PASSWORD``; on the local database a random one when unset; elsewhere unset is an error.

    >>> admin_password({"DBOPS_ADMIN_PASSWORD": "s3cret!"}, local=False).generated
    False
    >>> len(admin_password({}, local=True).password) >= 20
    True
    """
    value = env.get(PASSWORD_ENV, "")
    if value:
        if len(value.encode()) > BCRYPT_MAX_BYTES:
            raise ConfigError(f"{PASSWORD_ENV} is longer than {BCRYPT_MAX_BYTES} bytes (bcrypt's limit)",
                              hint="use a shorter password")
        return AdminPassword(value, generated=False)
    if local:
        return AdminPassword(secrets.token_urlsafe(18), generated=True)
    raise ConfigError(
        f"{PASSWORD_ENV} is not set: seeding a database other than the local one needs the admin password",
        hint=f"export {PASSWORD_ENV}=… (it is stored as a bcrypt hash, never in a file); "
        "only the local database gets a generated one",
    )


def hash_password(password: str, *, rounds: int = 12) -> str:
    """The bcrypt hash (``$2b$…``) stored for a password.

    >>> import bcrypt
    >>> h = hash_password("pw", rounds=4)
    >>> h.startswith("$2b$04$") and bcrypt.checkpw(b"pw", h.encode())
    True
    """
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


@dataclass
class SeedResult:
    """Rows per table as the script reported them; ``admin_hash_stored``: the given hash is in the database."""

    schema: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    admin_hash_stored: bool | None = None  # None: the schema stores no password (or not checked)
    script: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "counts": self.counts, "seconds": round(self.seconds, 3),
                "admin_hash_stored": self.admin_hash_stored, "script": self.script}


def seed_script_path(settings: Settings, schema: SchemaSettings) -> Path:
    if not schema.seed:
        raise ConfigError(f"no seed script configured for {schema.name}",
                          hint=f"set tool.dbops.schemas.{schema.name}.seed (e.g. seeds/{schema.name}.py)")
    return (settings.root / schema.seed).resolve()


def load_seed_script(settings: Settings, schema: SchemaSettings) -> ModuleType:
    """Import ``seeds/<schema>.py`` by path; it must define ``run``."""
    path = seed_script_path(settings, schema)
    module = import_project_file(
        path, f"dbops_seed_{schema.name}", what="seed script", root=settings.root,
        missing_hint=f"create it (define run(conn, *, admin_password_hash)) or fix tool.dbops.schemas.{schema.name}.seed",
    )
    if not callable(getattr(module, "run", None)):
        raise InputError("seed script defines no run(conn, *, admin_password_hash) function",
                         location=display_path(path, settings.root), hint="add it; it returns the row count per table")
    return module


def seed(settings: Settings, schema: SchemaSettings, url: str, *, admin_password_hash: str,
         check_head: bool = True, detect_admin: bool = True, log: Log = _silent) -> SeedResult:
    """Run the seed script of ``schema`` on ``url`` in one transaction (rolled back on any error).

    ``detect_admin`` looks for the given hash in the ``password_hash`` columns
    afterwards (``admin_hash_stored``): a generated password is worth showing
    only when it was stored (an existing admin keeps its password).
    """
    started = time.perf_counter()
    module = load_seed_script(settings, schema)
    path = Path(module.__file__ or "")
    if check_head:
        _require_head(settings, schema, url)
    result = SeedResult(schema.name, script=str(path))
    log(f"{schema.name}: running {path.name}")
    with connection(url) as conn:
        try:
            counts = module.run(conn, admin_password_hash=admin_password_hash)
            result.admin_hash_stored = _hash_stored(conn, admin_password_hash) if detect_admin else None
            conn.commit()
        except DbopsError:
            conn.rollback()
            raise
        except Exception as exc:
            conn.rollback()
            raise OperationFailed(
                f"{schema.name}: seed failed, nothing was written: {type(exc).__name__}: {first_line(exc)}",
                location=_location_in(exc, path),
                hint="fix the seed script (run `dbops migrate` first if a table is missing)",
            ) from exc
    result.counts = {str(k): int(v) for k, v in dict(counts or {}).items()}
    result.seconds = time.perf_counter() - started
    return result


def _require_head(settings: Settings, schema: SchemaSettings, url: str) -> None:
    history = load_history(settings, schema)
    with connection(url) as conn:
        conn.read_only = True
        current, recorded = database_state(conn)
    history.check_known(current, recorded)
    pending = history.pending(current)
    if pending:
        raise OperationFailed(
            f"{schema.name}: the database is not at head ({len(pending)} pending revision(s): {', '.join(pending)})",
            hint=f"run `dbops migrate {schema.name}` first",
        )


def _hash_stored(conn: Any, password_hash: str) -> bool | None:
    """Whether a ``password_hash`` column of the schema holds this hash (None: no such column)."""
    from psycopg import sql

    tables = conn.execute(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "USING (table_schema, table_name) WHERE c.table_schema = 'public' AND c.column_name = 'password_hash' "
        "AND t.table_type = 'BASE TABLE'"
    ).fetchall()
    if not tables:
        return None
    for (table,) in tables:
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE password_hash = %s)").format(sql.Identifier(table))
        if conn.execute(query, (password_hash,)).fetchone()[0]:
            return True
    return False


def _location_in(exc: BaseException, path: Path) -> str:
    """``seed_file:line`` of the innermost frame of the seed script in the traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__ or sys.exc_info()[2]):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)

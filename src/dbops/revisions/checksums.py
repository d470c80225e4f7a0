"""Checksums of applied revision files, kept in each database.

Every revision dbops applies is recorded in ``dbops_revision_checksums``
(revision id, file, sha256 of the file's bytes) in the same transaction as
the revision itself; a downgrade deletes the row. A revision file edited
after it was applied no longer matches its row: ``dbops deploy`` refuses and
``dbops status`` reports it (editing history silently forks the schemas of
the databases that already ran it).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.config import display_path

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy

    #: What dbops reads its bookkeeping through: a psycopg or a SQLAlchemy connection.
    Connection = psycopg.Connection[Any] | sqlalchemy.Connection

#: The table this module owns, in each database (a dbops bookkeeping table: ``dbops_*``).
CHECKSUM_TABLE = "dbops_revision_checksums"

CREATE_TABLE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} ("
    "revision text PRIMARY KEY, "
    "file text NOT NULL, "
    "sha256 text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())"
)


def file_checksum(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_sql(revision: str, path: str | None, checksum: str | None, *, upgrade: bool,
               root: Path | None) -> list[sqlalchemy.TextClause]:
    """Statements recording (upgrade) or forgetting (downgrade) one revision; bound, renderable offline."""
    from sqlalchemy import text

    if not upgrade:
        return [text(f"DELETE FROM {CHECKSUM_TABLE} WHERE revision = :revision").bindparams(revision=revision)]
    return [
        text(
            f"INSERT INTO {CHECKSUM_TABLE} (revision, file, sha256) VALUES (:revision, :file, :sha256) "
            "ON CONFLICT (revision) DO UPDATE SET file = EXCLUDED.file, sha256 = EXCLUDED.sha256, applied_at = now()"
        ).bindparams(revision=revision, file=display_path(path or "", root), sha256=checksum or "")
    ]


@dataclass(frozen=True)
class RecordedChecksum:
    revision: str
    file: str
    sha256: str


@dataclass(frozen=True)
class EditedRevision:
    """An applied revision whose file changed (or vanished) since it was applied."""

    revision: str
    file: str
    recorded: str
    actual: str | None  # None: the file is gone

    def describe(self) -> str:
        if self.actual is None:
            return f"{self.file} (revision {self.revision}) was applied but its file is gone"
        return (f"{self.file} (revision {self.revision}) was edited after it was applied "
                f"(sha256 {self.recorded[:12]}… when applied, now {self.actual[:12]}…)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_recorded(conn: Connection, *, exists: bool | None = None) -> dict[str, RecordedChecksum] | None:
    """The recorded checksums (None when the table does not exist yet).

    ``conn`` is a psycopg connection or a SQLAlchemy connection.
    """
    if exists is None:
        exists = bool(query_rows(conn, f"SELECT to_regclass('public.{CHECKSUM_TABLE}') IS NOT NULL")[0][0])
    if not exists:
        return None
    rows = query_rows(conn, f"SELECT revision, file, sha256 FROM {CHECKSUM_TABLE}")
    return {r[0]: RecordedChecksum(r[0], r[1], r[2]) for r in rows}


def compare(recorded: dict[str, RecordedChecksum], files: dict[str, tuple[str, str]]) -> list[EditedRevision]:
    """Edited or missing revisions: ``files`` maps revision -> (display path, sha256 now).

    >>> rec = {"1": RecordedChecksum("1", "v/1.py", "aa"), "2": RecordedChecksum("2", "v/2.py", "bb")}
    >>> [e.revision for e in compare(rec, {"1": ("v/1.py", "aa"), "2": ("v/2.py", "cc")})]
    ['2']
    >>> compare(rec, {"1": ("v/1.py", "aa")})[0].actual is None
    True
    """
    edited = []
    for revision, row in sorted(recorded.items()):
        current = files.get(revision)
        if current is None:
            edited.append(EditedRevision(revision, row.file, row.sha256, None))
        elif current[1] != row.sha256:
            edited.append(EditedRevision(revision, current[0], row.sha256, current[1]))
    return edited


def query_rows(conn: Connection, sql: str) -> list[Any]:
    """The rows of a query on either kind of connection (left in its transaction)."""
    import psycopg

    if isinstance(conn, psycopg.Connection):
        return list(conn.execute(sql).fetchall())
    return list(conn.exec_driver_sql(sql).fetchall())

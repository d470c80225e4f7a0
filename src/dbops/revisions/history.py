"""The revision files of a schema's Alembic environment, as plain data, and where a database stands.

Applied and pending sets are computed from the revision graph here (not
through Alembic's private revision-map API), so deploy, status and migrate
agree on them.

A broken history is an ``InputError`` (exit 2) naming the file, and the line
where there is one, in every command that loads it (``load_history``): a
revision that raises on import or does not compile, a ``down_revision``
naming no revision, several heads; and, once a database is read
(``History.check_known``), a revision applied there whose file is gone.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings, display_path
from dbops.db import connection
from dbops.errors import InputError, first_line
from dbops.revisions.checksums import CHECKSUM_TABLE, RecordedChecksum, file_checksum, query_rows, read_recorded
from dbops.revisions.config import script_directory

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

    from dbops.revisions.checksums import Connection


@dataclass(frozen=True)
class RevisionFile:
    """One revision: id, parents, file and the sha256 of the file now."""

    revision: str
    down_revisions: tuple[str, ...]
    path: Path
    file: str  # relative to the project root when inside it
    message: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "file": self.file, "message": self.message}


@dataclass(frozen=True)
class History:
    """All revisions of an environment and its head."""

    revisions: dict[str, RevisionFile]
    heads: tuple[str, ...]
    #: where the revision files live (``migrations/<schema>/versions``), as displayed
    versions: str = ""
    #: Alembic's ScriptDirectory the history was read from (reused to run it: files are loaded once).
    script: ScriptDirectory | None = None

    def ancestors(self, revs: tuple[str, ...] | list[str]) -> set[str]:
        """``revs`` and every revision below them."""
        seen: set[str] = set()
        stack = list(revs)
        while stack:
            rev = stack.pop()
            if rev in seen:
                continue
            seen.add(rev)
            stack.extend(self.revisions[rev].down_revisions if rev in self.revisions else ())
        return seen

    def check_known(self, current: tuple[str, ...], recorded: dict[str, RecordedChecksum] | None = None) -> None:
        """An InputError (exit 2) when the database is at a revision that has no file here.

        ``recorded`` (the checksums table) names the file the revision was applied from.
        """
        unknown = [r for r in current if r not in self.revisions]
        if not unknown:
            return
        rev = unknown[0]
        row = (recorded or {}).get(rev)
        where = row.file if row is not None else self.versions
        gone = f"{row.file} is gone" if row is not None else f"no file in {self.versions} has it"
        raise InputError(
            f"the database is at revision {', '.join(unknown)}, applied from a revision file that is missing ({gone})",
            location=where or None,
            hint="restore the file (e.g. `git checkout -- FILE`), or point dbops at the right project and database",
        )

    def applied(self, current: tuple[str, ...]) -> list[str]:
        """Revisions applied in a database at ``current``, oldest first."""
        return self.in_order(self.ancestors(current))

    def pending(self, current: tuple[str, ...], target: tuple[str, ...] | None = None) -> list[str]:
        """Revisions to apply to go from ``current`` to ``target`` (the heads), in apply order."""
        wanted = self.ancestors(target or self.heads) - self.ancestors(current)
        return self.in_order(wanted)

    def after(self, revision: str) -> set[str]:
        """The revisions above ``revision`` (not itself); an InputError when it is unknown."""
        if revision not in self.revisions:
            raise InputError(f"unknown revision {revision!r}", location=self.versions or None,
                             hint="give a revision id from `dbops status`")
        return self.ancestors(self.heads) - self.ancestors((revision,))

    def resolve(self, revisions: list[str] | tuple[str, ...]) -> set[str]:
        """The given revision ids, checked (an InputError names the first unknown one)."""
        for rev in revisions:
            if rev not in self.revisions:
                raise InputError(f"unknown revision {rev!r}", location=self.versions or None,
                                 hint="give a revision id from `dbops status`")
        return set(revisions)

    def in_order(self, revs: set[str]) -> list[str]:
        """``revs`` in topological order (parents first, ties by id)."""
        ordered: list[str] = []
        done: set[str] = set()
        remaining = set(revs)
        while remaining:
            ready = sorted(r for r in remaining if all(d in done or d not in revs for d in self.revisions[r].down_revisions))
            if not ready:  # a cycle cannot come out of Alembic; stay safe
                ready = sorted(remaining)
            for rev in ready:
                ordered.append(rev)
                done.add(rev)
                remaining.discard(rev)
        return ordered

    def files(self) -> dict[str, tuple[str, str]]:
        """revision -> (display path, sha256), for :func:`dbops.revisions.checksums.compare`."""
        return {r.revision: (r.file, r.sha256) for r in self.revisions.values()}

    def module(self, revision: str) -> Any:
        """The loaded Python module of a revision (its ``upgrade()``, ``phase`` …)."""
        assert self.script is not None
        script = self.script.get_revision(revision)
        assert script is not None
        return script.module


def load_history(settings: Settings, schema: SchemaSettings, script: ScriptDirectory | None = None) -> History:
    """Read every revision file of the schema; a broken history is an InputError naming the file."""
    from alembic.util import to_tuple

    script = script or script_directory(settings, schema)
    versions_dir = schema.migrations_path(settings.root) / "versions"
    versions = display_path(versions_dir, settings.root)
    try:
        with warnings.catch_warnings():  # Alembic warns before it fails; the InputError below says it better
            warnings.simplefilter("ignore")
            scripts = list(script.walk_revisions())
            heads = tuple(script.get_heads())
    except Exception as exc:  # Alembic raises KeyError, CommandError, … or whatever a revision raised on import
        raise broken_history(exc, versions_dir, settings.root) from None
    revisions = {}
    for sc in scripts:
        path = Path(sc.path)
        revisions[sc.revision] = RevisionFile(
            revision=sc.revision,
            down_revisions=tuple(to_tuple(sc.down_revision, default=())),
            path=path,
            file=display_path(path, settings.root),
            message=(sc.doc or "").strip(),
            sha256=file_checksum(path),
        )
    if len(heads) > 1:
        files = ", ".join(f"{h} ({revisions[h].file})" for h in sorted(heads))
        raise InputError(
            f"{schema.name} has {len(heads)} heads: {files}",
            location=revisions[sorted(heads)[0]].file,
            hint="merge them: a new revision whose down_revision names every head, "
            f"e.g. down_revision = {tuple(sorted(heads))!r}",
        )
    return History(revisions, heads, versions, script)


# -- diagnosing a history Alembic cannot read -----------------------------------------------------


def broken_history(exc: BaseException, versions_dir: Path, root: Path) -> InputError:
    """The InputError for an exception raised while Alembic read the revision files."""
    hint_import = "fix the revision file (it is imported to read its revision ids)"
    if isinstance(exc, SyntaxError) and exc.filename:
        return InputError(f"revision file does not compile: {exc.msg}",
                          location=f"{display_path(exc.filename, root)}:{exc.lineno or 1}", hint="fix the syntax")
    raised_at = _frame_in(exc, versions_dir)
    if raised_at is not None:
        path, line = raised_at
        return InputError(f"revision file raises on import: {type(exc).__name__}: {first_line(exc)}",
                          location=f"{display_path(path, root)}:{line}", hint=hint_import)
    problem = _graph_problem(versions_dir, root)
    if problem is not None:
        return problem
    return InputError(f"cannot read the revisions: {type(exc).__name__}: {first_line(exc)}",
                      location=display_path(versions_dir, root),
                      hint="check the revision files (revision / down_revision ids)")


def _frame_in(exc: BaseException, folder: Path) -> tuple[str, int] | None:
    """The deepest traceback frame that runs a file of ``folder`` (path, line), if any."""
    found = None
    prefix = str(folder.resolve()) + "/"
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefix):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=", re.MULTILINE)


def _graph_problem(versions_dir: Path, root: Path) -> InputError | None:
    """A missing parent or a duplicate id, read from the revision files themselves (the error path only)."""
    from alembic.util import load_python_file, to_tuple

    ids: dict[str, Path] = {}
    parents: list[tuple[Path, str, tuple[str, ...]]] = []
    for path in sorted(versions_dir.glob("*.py")):
        if path.name.startswith((".#", "__init__")):
            continue
        module = load_python_file(str(versions_dir), path.name)
        revision = getattr(module, "revision", None)
        if revision is None:
            continue
        if revision in ids:
            return InputError(f"revision id {revision!r} is declared twice (also in "
                              f"{display_path(ids[revision], root)})", location=display_path(path, root),
                              hint="give the newer revision a new id")
        ids[revision] = path
        down = tuple(to_tuple(getattr(module, "down_revision", None), default=()))
        depends = tuple(to_tuple(getattr(module, "depends_on", None), default=()))
        parents.append((path, revision, down + depends))
    for path, revision, down in parents:
        for parent in down:
            if parent not in ids:
                source = path.read_text(encoding="utf-8", errors="replace")
                match = _DOWN_REVISION.search(source)
                line = source.count("\n", 0, match.start()) + 1 if match else 1
                return InputError(f"revision {revision} names down_revision {parent!r}, which no revision file has",
                                  location=f"{display_path(path, root)}:{line}",
                                  hint="restore the missing revision, or point down_revision at an existing one")
    return None


# -- where a database stands ------------------------------------------------------------------------


def head_revisions(settings: Settings, schema: SchemaSettings) -> tuple[str, ...]:
    """The head revision(s) of the schema's history."""
    return load_history(settings, schema).heads


def current_revision(url: str) -> tuple[str, ...]:
    """The revisions recorded in ``alembic_version`` (empty when none)."""

    with connection(url) as conn:
        return database_state(conn)[0]


def database_state(conn: Connection) -> tuple[tuple[str, ...], dict[str, RecordedChecksum]]:
    """``alembic_version``'s revisions and the recorded checksums (both empty when absent).

    ``conn``: a psycopg or a SQLAlchemy connection (left in its transaction).
    """
    versions, checksums = query_rows(conn, "SELECT to_regclass('public.alembic_version') IS NOT NULL, "
                                f"to_regclass('public.{CHECKSUM_TABLE}') IS NOT NULL")[0]
    current = tuple(r[0] for r in query_rows(conn, "SELECT version_num FROM alembic_version ORDER BY 1")) if versions else ()
    return current, (read_recorded(conn, exists=True) or {}) if checksums else {}

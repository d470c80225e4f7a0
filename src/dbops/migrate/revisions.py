"""The revision files of a schema's Alembic environment, as plain data.

Applied and pending sets are computed from the revision graph here (not
through Alembic's private revision-map API), so deploy, status and migrate
agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings
from dbops.errors import InputError, OperationFailed
from dbops.migrate.checksums import display_path, file_checksum

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


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
    """All revisions of an environment and its heads."""

    revisions: dict[str, RevisionFile]
    heads: tuple[str, ...]
    #: Alembic's ScriptDirectory the history was read from (reused to run it: files are loaded once).
    script: Any = None

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

    def check_known(self, current: tuple[str, ...], where: str) -> None:
        unknown = [r for r in current if r not in self.revisions]
        if unknown:
            raise OperationFailed(
                f"the database is at revision {', '.join(unknown)}, which has no file in {where}",
                hint="restore the revision file (or point dbops at the right project/database)",
            )

    def applied(self, current: tuple[str, ...]) -> list[str]:
        """Revisions applied in a database at ``current``, oldest first."""
        return self.in_order(self.ancestors(current))

    def pending(self, current: tuple[str, ...], target: tuple[str, ...] | None = None) -> list[str]:
        """Revisions to apply to go from ``current`` to ``target`` (the heads), in apply order."""
        wanted = self.ancestors(target or self.heads) - self.ancestors(current)
        return self.in_order(wanted)

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
        """revision -> (display path, sha256), for :func:`dbops.migrate.checksums.compare`."""
        return {r.revision: (r.file, r.sha256) for r in self.revisions.values()}


def script_directory(settings: Settings, schema: SchemaSettings) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    from dbops.migrate.api import alembic_config

    return ScriptDirectory.from_config(alembic_config(settings, schema))


def load_history(settings: Settings, schema: SchemaSettings, script: ScriptDirectory | None = None) -> History:
    """Read every revision file of the schema (a broken file is an InputError naming it)."""
    from alembic.util import CommandError, to_tuple

    script = script or script_directory(settings, schema)
    try:
        scripts = list(script.walk_revisions())
        heads = tuple(script.get_heads())
    except CommandError as exc:
        raise InputError(f"cannot read the revisions of {schema.name}: {exc}",
                         location=str(schema.migrations_path(settings.root) / "versions"),
                         hint="fix the revision files (revision / down_revision ids)") from None
    except SyntaxError as exc:
        raise InputError(f"revision file does not compile: {exc.msg}", location=f"{exc.filename}:{exc.lineno or 1}",
                         hint="fix the syntax") from None
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
    return History(revisions, heads, script)

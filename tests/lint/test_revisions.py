"""Alembic revisions as input: rendered one at a time offline, findings at the op.* line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dbops.config import load_settings
from dbops.workflows.locks import lint_schema_revisions

ENV = '"""env"""\nfrom alembic import context\n\nfrom dbops.revisions.env import run_environment\n\nrun_environment(context)\n'


def revision(rev: str, down: str | None, body: str, extra: str = "") -> str:
    return textwrap.dedent(f'''\
        """{rev}"""
        import sqlalchemy as sa
        from alembic import op

        revision = {rev!r}
        down_revision = {down!r}
        branch_labels = None
        depends_on = None
        {extra}

        def upgrade() -> None:
        ''') + textwrap.indent(textwrap.dedent(body), "    ") + "\n\ndef downgrade() -> None:\n    pass\n"


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbops]\ntarget_pg_version = 15\n[tool.dbops.schemas.demo]\nmigrations = "migrations/demo"\n'
        '[tool.dbops.locks]\ncache_dir = ""\n'
    )
    versions = tmp_path / "migrations" / "demo" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "demo" / "env.py").write_text(ENV)

    def write(name: str, text: str) -> Path:
        path = versions / name
        path.write_text(text)
        return path

    write("0001_create.py", revision("0001", None, '''\
        op.create_table("clinics", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("name", sa.Text))
        op.create_index("clinics_name_idx", "clinics", ["name"])
        '''))
    settings = lambda: load_settings(tmp_path, env={})  # noqa: E731
    return settings, write


def test_new_tables_lint_clean(project) -> None:
    settings, _write = project
    s = settings()
    report = lint_schema_revisions(s, s.schema("demo"))
    assert report.findings == []
    assert report.summary["statements"] >= 4  # BEGIN, CREATE TABLE, CREATE INDEX, COMMIT


def test_findings_point_at_the_op_line_and_autocommit_block_is_modelled(project) -> None:
    settings, write = project
    path = write("0002_index.py", revision("0002", "0001", '''\
        op.execute("SET lock_timeout = '2s'")
        op.add_column("clinics", sa.Column("email", sa.Text))
        op.create_index("clinics_email_idx", "clinics", ["email"])
        with op.get_context().autocommit_block():
            op.create_index("clinics_email2_idx", "clinics", ["email"], postgresql_concurrently=True)
        op.create_index("clinics_email3_idx", "clinics", ["email"], postgresql_concurrently=True)
        '''))
    s = settings()
    report = lint_schema_revisions(s, s.schema("demo"))
    lines = path.read_text().splitlines()
    got = sorted((f.rule, lines[f.line - 1].split(",")[0].strip()) for f in report.findings)
    assert got == [
        ("concurrently-in-transaction", 'op.create_index("clinics_email3_idx"'),
        ("require-concurrent-index", 'op.create_index("clinics_email_idx"'),
        # the ADD COLUMN's ACCESS EXCLUSIVE lock is still held while the index builds
        ("statements-after-exclusive-lock", 'op.create_index("clinics_email_idx"'),
    ]
    assert all(f.file.endswith("0002_index.py") for f in report.findings)
    assert all(f.excerpt.startswith("CREATE INDEX") for f in report.findings)


def test_since_revisions_suppressions_and_contract_phase(project) -> None:
    settings, write = project
    write("0002_drop.py", revision("0002", "0001", '''\
        op.execute("SET lock_timeout = '2s'")
        # dbops: ignore[require-concurrent-index] clinics has a handful of rows
        op.create_index("clinics_x_idx", "clinics", ["name"])
        op.drop_column("clinics", "name")
        '''))
    write("0003_contract.py", revision("0003", "0002", '''\
        op.execute("SET lock_timeout = '2s'")
        op.drop_column("clinics", "id")  # dbops: ignore[drop-column]
        ''', extra='phase = "contract"'))
    s = settings()
    schema = s.schema("demo")
    report = lint_schema_revisions(s, schema)
    assert sorted(f.rule for f in report.findings) == ["drop-column", "invalid-suppression"]
    assert [f.file.rsplit("/", 1)[-1] for f in report.findings if f.rule == "drop-column"] == ["0002_drop.py"]
    only_last = lint_schema_revisions(s, schema, since="0002")
    assert [f.rule for f in only_last.findings] == ["invalid-suppression"]
    assert only_last.summary["revisions"] == 1
    picked = lint_schema_revisions(s, schema, revisions=["0001"])
    assert picked.findings == []


def test_a_revision_that_cannot_render_offline_is_unanalysed_not_a_crash(project) -> None:
    settings, write = project
    path = write("0002_data.py", revision("0002", "0001", '''\
        op.execute("SET lock_timeout = '2s'")
        rows = op.get_bind().execute(sa.text("SELECT 1")).fetchall()
        '''))
    s = settings()
    report = lint_schema_revisions(s, s.schema("demo"))
    [finding] = [f for f in report.findings if f.rule == "unanalysed"]
    assert "get_bind" in path.read_text().splitlines()[finding.line - 1]


def test_project_migrations_lint_clean(settings) -> None:
    for schema in settings.schemas.values():
        report = lint_schema_revisions(settings, schema)
        errors = [f for f in report.findings if f.severity.value != "info"]
        assert errors == [], [f.location() + " " + f.rule for f in errors]


def test_alembic_findings_speak_alembic(project) -> None:
    """Fixes are Alembic code, suppressions are `#` comments, the lock line is the op.* line."""
    settings, write = project
    path = write("0002_mixed.py", revision("0002", "0001", '''\
        op.add_column("clinics", sa.Column("email", sa.Text))
        op.create_index("clinics_email_idx", "clinics", ["email"], unique=True, postgresql_where=sa.text("email IS NOT NULL"))
        op.execute("CALL refresh_things()")
        '''))
    s = settings()
    report = lint_schema_revisions(s, s.schema("demo"))
    lines = path.read_text().splitlines()
    by_rule = {f.rule: f for f in report.findings}
    index = by_rule["require-concurrent-index"]
    assert index.fix.splitlines() == [
        "with op.get_context().autocommit_block():",
        '    op.create_index("clinics_email_idx", "clinics", ["email"], unique=True, '
        'postgresql_where=sa.text("email IS NOT NULL"), postgresql_concurrently=True)',
    ]
    after = by_rule["statements-after-exclusive-lock"]
    add_column_line = next(n for n, text in enumerate(lines, 1) if "op.add_column" in text)
    assert f"(taken at line {add_column_line})" in after.message
    assert lines[after.line - 1].strip().startswith("op.create_index")
    assert "# dbops: ignore[unanalysed]" in by_rule["unanalysed"].fix
    assert by_rule["require-lock-timeout"].fix.splitlines() == [
        "# at the top of the migration, before its first lock:", "op.execute(\"SET lock_timeout = '2s'\")"]
    assert all(f.column is None for f in report.findings)  # a revision line, not a rendered SQL column


def test_the_type_history_of_an_alembic_chain_spares_relabelling_changes(project) -> None:
    settings, write = project
    write("0002_widen.py", revision("0002", "0001", '''\
        op.execute("SET lock_timeout = '2s'")
        op.alter_column("clinics", "name", type_=sa.String(80), existing_type=sa.Text)
        op.add_column("clinics", sa.Column("code", sa.String(20)))
        '''))
    write("0003_again.py", revision("0003", "0002", '''\
        op.execute("SET lock_timeout = '2s'")
        op.alter_column("clinics", "code", type_=sa.String(40))
        op.alter_column("clinics", "code", type_=sa.Text)
        op.alter_column("clinics", "code", type_=sa.String(10))
        '''))
    s = settings()
    report = lint_schema_revisions(s, s.schema("demo"))
    rewrites = [(f.file.rsplit("/", 1)[-1], f.message) for f in report.findings if f.rule == "column-type-rewrite"]
    # the old types come from the earlier revisions: text -> varchar(80) checks every value (a rewrite);
    # varchar(20) -> varchar(40) -> text only relabel; text -> varchar(10) rewrites
    assert [(name, message.split(" rewrites")[0]) for name, message in rewrites] == [
        ("0002_widen.py", "changing clinics.name from text to varchar(80)"),
        ("0003_again.py", "changing clinics.code from text to varchar(10)"),
    ]

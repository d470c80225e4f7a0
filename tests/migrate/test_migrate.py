"""`dbops migrate`, `dbops migrate create`, the upgrade/downgrade API and `dbops status` (real PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_migrate_twice_second_run_is_a_no_op_and_checksums_are_recorded(project, empty_db, dbops, sql):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")')

    first = dbops("migrate", "demo", "--database-url", empty_db, env=proj.env)
    assert first.exit_code == 0, first.output
    assert "demo: applied 2 revision(s): 0001, 0002" in first.stdout
    recorded = sql(empty_db, "SELECT revision, sha256, applied_at FROM dbops_revision_checksums ORDER BY 1")
    assert [r[0] for r in recorded] == ["0001", "0002"]

    second = dbops("migrate", "demo", "--database-url", empty_db, env=proj.env)
    assert second.exit_code == 0
    assert "demo: up to date" in second.stdout
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0002",)]
    assert sql(empty_db, "SELECT revision, sha256, applied_at FROM dbops_revision_checksums ORDER BY 1") == recorded


def test_migrate_warns_on_an_edited_applied_revision_but_still_applies_new_ones(project, empty_db, dbops, sql):
    proj = project()
    first = proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")', doc="create a")
    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    first.write_text(first.read_text() + "\n# edited\n")
    proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")')

    result = dbops("migrate", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 0
    assert "0001_create_a.py (revision 0001) was edited after it was applied" in result.stderr
    assert "dbops reset demo" in result.stderr
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0002",)]


def test_revisions_applied_by_plain_alembic_are_reported_unrecorded_then_recorded(project, empty_db, dbops, sql):
    from alembic import command
    from alembic.config import Config

    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    config = Config()
    config.set_main_option("script_location", str(proj.root / "migrations" / "demo"))
    config.set_main_option("sqlalchemy.url", empty_db.replace("postgresql://", "postgresql+psycopg://"))
    command.upgrade(config, "head")
    assert sql(empty_db, "SELECT to_regclass('public.dbops_revision_checksums')") == [(None,)]

    status = dbops("status", "demo", "--database-url", empty_db, "--format", "json", env=proj.env)
    payload = json.loads(status.stdout)["schemas"][0]
    assert payload["unrecorded"] == ["0001"] and payload["pending"] == [] and payload["edited"] == []

    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    assert sql(empty_db, "SELECT revision FROM dbops_revision_checksums") == [("0001",)]


def test_upgrade_and_downgrade_api_record_and_forget_checksums(project, empty_db, sql):
    from dbops.revisions import downgrade, upgrade

    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")', 'op.execute("DROP TABLE a")')
    proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")', 'op.execute("DROP TABLE b")')
    settings = proj.settings()
    schema = settings.schema("demo")

    assert upgrade(settings, schema, empty_db) == ["0001", "0002"]
    assert upgrade(settings, schema, empty_db) == []
    assert downgrade(settings, schema, empty_db, "0001") == ["0002"]
    assert sql(empty_db, "SELECT revision FROM dbops_revision_checksums") == [("0001",)]
    assert downgrade(settings, schema, empty_db) == ["0001"]
    assert sql(empty_db, "SELECT count(*) FROM dbops_revision_checksums") == [(0,)]
    assert sql(empty_db, "SELECT to_regclass('public.a')") == [(None,)]
    assert upgrade(settings, schema, empty_db, "0001") == ["0001"]


def test_migrate_create_empty_writes_a_revision_with_lock_timeout_in_a_copy_of_the_real_env(tmp_path, dbops, empty_db,
                                                                                          project, sql):
    env_copy = tmp_path / "healthcare_env"
    shutil.copytree(REPO / "migrations" / "healthcare", env_copy, ignore=shutil.ignore_patterns("__pycache__"))
    heads_before = {p.name for p in (env_copy / "versions").glob("*.py")}
    proj = project(schema="healthcare", migrations=str(env_copy), seed=None)
    from dbops.revisions import head_revisions

    settings = proj.settings()
    (old_head,) = head_revisions(settings, settings.schema("healthcare"))

    result = dbops("migrate", "create", "healthcare", "add rating note", "--empty", env=proj.env)

    assert result.exit_code == 0, result.output
    created = sorted({p.name for p in (env_copy / "versions").glob("*.py")} - heads_before)
    assert len(created) == 1 and created[0].endswith("_add_rating_note.py")
    text = (env_copy / "versions" / created[0]).read_text()
    assert "SET lock_timeout" in text
    assert f"down_revision = {old_head!r}" in text
    assert created[0] in result.stdout
    assert not (REPO / "migrations" / "healthcare" / "versions" / created[0]).exists()
    # The new (blank) revision deploys on top of the real history.
    deployed = dbops("deploy", "healthcare", "--database-url", empty_db, env=proj.env)
    assert deployed.exit_code == 0, deployed.output
    new_rev = text.split("revision = ")[1].split("\n")[0].strip("'\"")
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [(new_rev,)]


def test_migrate_create_autogenerates_from_the_models_ignoring_bookkeeping(project, empty_db, dbops, monkeypatch,
                                                                          tmp_path):
    module = f"demo_models_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class A(Base):
            __tablename__ = "a"
            id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
            note: Mapped[str | None] = mapped_column(sa.Text)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    proj = project(models=module)
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int PRIMARY KEY)")')

    result = dbops("migrate", "create", "demo", "add note", "--database-url", empty_db, env=proj.env)

    assert result.exit_code in (0, 1), result.output  # 1 only when the lint reports errors
    created = proj.versions / "0002_add_note.py"
    assert created.is_file(), result.output
    text = created.read_text()
    assert "op.add_column('a', sa.Column('note', sa.Text()" in text
    assert "SET lock_timeout" in text
    assert "dbops_revision_checksums" not in text and "drop_table" not in text

    # Apply it: now the models match, and autogenerate writes nothing.
    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    again = dbops("migrate", "create", "demo", "nothing", "--database-url", empty_db, env=proj.env)
    assert again.exit_code == 0
    assert "no changes" in again.stdout
    assert not list(proj.versions.glob("0003_*"))


def test_migrate_usage_errors_and_help_documents_both_forms(dbops):
    assert dbops("migrate", "create", "healthcare").exit_code == 2
    assert dbops("migrate", "healthcare", "--empty").exit_code == 2
    assert dbops("migrate", "healthcare", "fashion").exit_code == 2
    unknown = dbops("migrate", "nosuchschema")
    assert unknown.exit_code == 2 and "unknown schema" in unknown.stderr
    help_text = dbops("migrate", "--help").stdout
    assert "dbops migrate [SCHEMA]" in help_text and "dbops migrate create SCHEMA NAME [--empty]" in help_text


@pytest.mark.slow
def test_real_schemas_migrate_generate_and_status_on_empty_databases(project, pg_server, dbops, tmp_path):
    """Both real schemas from empty: migrate applies everything, regenerates types, status is clean (drift too)."""
    for name in ("healthcare", "fashion"):
        url = pg_server.create_database()
        types_file = tmp_path / f"{name}_types.py"
        proj = project(schema=name, migrations=str(REPO / "migrations" / name), models=f"platformdb.{name}.models",
                       seed=None, extra={"types_module": str(types_file)})

        first = dbops("migrate", name, "--database-url", url, env=proj.env)
        assert first.exit_code == 0, first.output
        assert f"{name}: applied" in first.stdout and "regenerated" in first.stdout
        assert types_file.read_text().startswith("# generated by dbops generate")

        second = dbops("migrate", name, "--database-url", url, env=proj.env)
        assert f"{name}: up to date" in second.stdout and "unchanged" in second.stdout

        status = dbops("status", name, "--database-url", url, "--format", "json", env=proj.env)
        payload = json.loads(status.stdout)
        assert status.exit_code == 0, status.output
        (schema_status,) = payload["schemas"]
        assert payload["up_to_date"] and schema_status["drift"] == [] and schema_status["pending"] == []
        assert schema_status["current"] == schema_status["heads"]


def test_migrate_warns_when_it_applies_a_revision_with_lint_errors(project, empty_db, dbops, sql):
    proj = project()
    proj.revision("0001", None, 'op.execute("SET lock_timeout = \'2s\'")\nop.execute("CREATE TABLE a (id int)")')
    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", 'op.execute("SET lock_timeout = \'2s\'")\nop.execute("CREATE INDEX a_id ON a (id)")',
                  doc="index a")

    result = dbops("migrate", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 0, result.output  # dev applies it anyway …
    assert sql(empty_db, "SELECT to_regclass('a_id')::text") == [("a_id",)]
    assert "warning: demo: applied revision(s) with 1 lock-safety error(s)" in result.stderr  # … and says so
    assert "require-concurrent-index" in result.stderr and "0002_index_a.py" in result.stderr

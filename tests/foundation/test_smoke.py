import psycopg


def test_migrated_copy_has_alembic_version(healthcare_db):
    with psycopg.connect(healthcare_db) as conn:
        assert conn.execute("select count(*) from alembic_version").fetchone()[0] == 1


def test_cli_migrate_is_noop_on_migrated(dbops, healthcare_db):
    result = dbops("migrate", "healthcare", "--no-generate", "--database-url", healthcare_db)
    assert result.exit_code == 0, result.output

"""Conventions of the models, checked on the migrated databases (real catalogs, not the models' word)."""

from __future__ import annotations

import psycopg
import pytest

TENANT = {"healthcare": ("clinic_id", "clinics"), "fashion": ("studio_id", "studios")}


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_every_foreign_key_has_an_index_led_by_its_columns(schema, request):
    url = request.getfixturevalue(f"{schema}_db")
    with psycopg.connect(url) as conn:
        fks = conn.execute(
            "SELECT c.conname, c.conrelid, c.conkey::int[] FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
            "WHERE c.contype = 'f' AND r.relnamespace = 'public'::regnamespace AND NOT r.relispartition"
        ).fetchall()
        assert fks
        missing = []
        for name, table, columns in fks:
            leading = conn.execute(
                "SELECT count(*) FROM pg_index i WHERE i.indrelid = %s "
                "AND (i.indkey::int2[])[0:%s - 1]::int[] @> %s::int[] AND (i.indkey::int2[])[0:%s - 1]::int[] <@ %s::int[]",
                (table, len(columns), columns, len(columns), columns),
            ).fetchone()[0]
            if not leading:
                missing.append(name)
    assert missing == []


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_keys_are_bigint_identity_by_default_and_timestamps_timestamptz(schema, request):
    url = request.getfixturevalue(f"{schema}_db")
    with psycopg.connect(url) as conn:
        ids = conn.execute(
            "SELECT c.table_name, c.data_type, c.is_identity, c.identity_generation FROM information_schema.columns c "
            "JOIN pg_class r ON r.relname = c.table_name AND r.relnamespace = 'public'::regnamespace "
            "WHERE c.table_schema = 'public' AND c.column_name = 'id' AND NOT r.relispartition"
        ).fetchall()
        naive = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'"
        ).fetchall()
    assert ids and {row[1:] for row in ids} == {("bigint", "YES", "BY DEFAULT")}
    assert naive == []


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_every_tenant_owned_table_carries_the_tenant_key(schema):
    import importlib

    models = importlib.import_module(f"platformdb.{schema}.models")
    key, tenant_table = TENANT[schema]
    for table in models.Base.metadata.tables.values():
        if table.name == tenant_table:
            continue
        column = table.columns[key]
        assert {fk.column.table.name for fk in column.foreign_keys} == {tenant_table}, table.name
        if table.name != "users":  # a SUPER_ADMIN belongs to no clinic
            assert not column.nullable, table.name


def test_users_rules_enforced_by_the_database(healthcare_db):
    with psycopg.connect(healthcare_db) as conn:
        clinic = conn.execute("INSERT INTO clinics (name) VALUES ('C') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO users (clinic_id, name, email, role_type) VALUES (NULL, 'a', 'a@x', 'SUPER_ADMIN')")
        conn.execute("INSERT INTO users (clinic_id, name, email, role_type) VALUES (%s, 'a', 'a@x', 'DOCTOR')", (clinic,))
        conn.commit()
        for sql, error in [
            # clinic_id NULL only for SUPER_ADMIN
            ("INSERT INTO users (clinic_id, name, email, role_type) VALUES (NULL, 'b', 'b@x', 'DOCTOR')",
             psycopg.errors.CheckViolation),
            # unique (clinic_id, email) NULLS NOT DISTINCT: two super admins cannot share an e-mail
            ("INSERT INTO users (clinic_id, name, email, role_type) VALUES (NULL, 'c', 'a@x', 'SUPER_ADMIN')",
             psycopg.errors.UniqueViolation),
            ("INSERT INTO users (clinic_id, name, email, role_type) VALUES (NULL, 'c', 'c@x', 'ROOT')",
             psycopg.errors.InvalidTextRepresentation),
        ]:
            with pytest.raises(error):
                conn.execute(sql)
            conn.rollback()

"""The catalog built from SQLAlchemy metadata, and the EXPLAIN JSON readers."""

from __future__ import annotations

import sqlalchemy as sa

from dbops.budgets import plans
from dbops.budgets.catalog import catalog_from_metadata


def test_catalog_reads_keys_directions_partial_predicates_expressions_and_constraints():
    metadata = sa.MetaData()
    users = sa.Table(
        "users", metadata,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("clinic_id", sa.BigInteger),
        sa.Column("email", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("is_active", sa.Boolean),
        sa.UniqueConstraint("clinic_id", "email"),
    )
    sa.Index("ix_active", users.c.clinic_id, sa.text("created_at DESC"), postgresql_where=sa.text("is_active"))
    sa.Index("ix_created", users.c.clinic_id, users.c.created_at.desc())
    sa.Index("ix_lower_email", sa.func.lower(users.c.email))
    sa.Index("ix_name_trgm", users.c.name, postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"})
    catalog = catalog_from_metadata(metadata, tenant_key="clinic_id", tenant_table="clinics")
    indexes = {i.name: i for i in catalog.tables["users"].indexes}
    assert indexes["users_pkey"].keys == ("id",) and indexes["users_pkey"].unique
    assert indexes["users_clinic_id_email_key"].keys == ("clinic_id", "email")
    assert indexes["ix_active"].keys == ("clinic_id", "created_at")
    assert indexes["ix_active"].descending == (False, True)
    assert indexes["ix_active"].predicate == {"is_active = TRUE"}
    assert indexes["ix_created"].descending == (False, True)
    assert indexes["ix_lower_email"].keys == ("LOWER(email)",)
    assert (indexes["ix_name_trgm"].method, indexes["ix_name_trgm"].opclasses) == ("gin", ("gin_trgm_ops",))
    assert catalog.tenant_column("users") == "clinic_id"


def test_catalog_of_our_models_knows_the_hot_query_indexes():
    from platformdb.healthcare.models import Base

    catalog = catalog_from_metadata(Base.metadata, tenant_key="clinic_id", tenant_table="clinics")
    users = {i.name: i for i in catalog.tables["users"].indexes}
    assert users["ix_users_clinic_active_created"].predicate == {"is_active = TRUE"}
    assert catalog.tables["appointments"].foreign_keys["doctor_id"] == "doctors"


def _scan(node_type: str, relation: str, rows: int, loops: int = 1, **extra) -> dict:
    return {"Node Type": node_type, "Relation Name": relation, "Actual Rows": rows, "Actual Loops": loops, **extra}


def test_rows_examined_counts_filtered_and_rechecked_rows_times_loops():
    document = [{"Plan": {
        "Node Type": "Nested Loop", "Actual Rows": 10, "Actual Loops": 1, "Shared Hit Blocks": 40,
        "Shared Read Blocks": 2,
        "Plans": [
            _scan("Bitmap Heap Scan", "appointments", 10, 1, **{"Rows Removed by Filter": 5,
                                                               "Rows Removed by Index Recheck": 3},
                  Plans=[{"Node Type": "Bitmap Index Scan", "Index Name": "ix_a", "Actual Rows": 18,
                          "Actual Loops": 1}]),
            _scan("Index Scan", "doctors", 1, 10, **{"Index Name": "doctors_pkey"}),
        ],
    }}]
    # (10 + 5 + 3) × 1 + 1 × 10; the Bitmap Index Scan (no relation) is not a heap scan.
    assert plans.rows_examined(document) == 28
    assert plans.buffers(document) == 42
    assert plans.plan_summary(document) == ["appointments: Bitmap Heap Scan ix_a", "doctors: Index Scan doctors_pkey"]
    assert plans.seq_scanned(document) == set()


def test_full_primary_key_scan_has_no_seq_scan_but_examines_everything():
    document = [{"Plan": {"Node Type": "Limit", "Actual Rows": 0, "Actual Loops": 1, "Plans": [
        _scan("Index Scan", "appointments", 0, 1, **{"Index Name": "appointments_pkey",
                                                     "Rows Removed by Filter": 30000})]}}]
    assert plans.seq_scanned(document) == set()
    assert plans.rows_examined(document) == 30000


def test_partitions_map_to_their_parent():
    parents = {"logs_p202611": "logs", "logs_default": "logs"}
    document = [{"Plan": {"Node Type": "Append", "Plans": [
        _scan("Seq Scan", "logs_p202611", 3), _scan("Seq Scan", "logs_default", 0)]}}]
    assert plans.seq_scanned(document, parents) == {"logs"}
    assert plans.plan_summary(document, parents) == ["logs: Seq Scan on 2 partitions"]

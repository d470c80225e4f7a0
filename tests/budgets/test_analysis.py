"""Static analysis on literal catalogs and SQL (no database)."""

from __future__ import annotations

import pytest

from dbops.budgets.analysis import AnalysisError, analyze
from dbops.budgets.catalog import Catalog, Index, TableInfo
from dbops.budgets.indexing import Need, create_index_sql, ideal_index, match_index, serving_index

APPOINTMENT_COLUMNS = {
    "id": "BIGINT", "clinic_id": "BIGINT", "patient_id": "BIGINT", "doctor_id": "BIGINT",
    "appointment_date_time": "TIMESTAMPTZ", "status": "TEXT", "rating": "SMALLINT", "notes": "TEXT",
}


def catalog(*extra: Index) -> Catalog:
    """clinics / doctors / appointments with the indexes a small real schema would have."""
    clinics = TableInfo("clinics", {"id": "BIGINT", "name": "TEXT"}, (Index("clinics_pkey", "clinics", ("id",), unique=True),))
    doctors = TableInfo(
        "doctors", {"id": "BIGINT", "clinic_id": "BIGINT", "name": "TEXT", "email": "TEXT", "is_active": "BOOLEAN"},
        (Index("doctors_pkey", "doctors", ("id",), unique=True),
         Index("ix_doctors_clinic_active", "doctors", ("clinic_id", "name"), where="is_active",
               predicate=frozenset({"is_active = TRUE"})),
         Index("ix_doctors_email", "doctors", ("email",))),
        {"clinic_id": "clinics"},
    )
    appointments = TableInfo(
        "appointments", APPOINTMENT_COLUMNS,
        (Index("appointments_pkey", "appointments", ("id",), unique=True),
         Index("ix_appointments_clinic_date", "appointments", ("clinic_id", "appointment_date_time")),
         Index("ix_appointments_patient_date", "appointments", ("patient_id", "appointment_date_time")),
         *(i for i in extra if i.table == "appointments")),
        {"clinic_id": "clinics", "doctor_id": "doctors"},
    )
    tables = {"clinics": clinics, "doctors": doctors, "appointments": appointments}
    return Catalog(tables, tenant_key="clinic_id", tenant_table="clinics")


def access(sql: str, cat: Catalog | None = None, **kw):
    result = analyze(sql, cat or catalog(), **kw)
    return result, {a.alias: a for a in result.accesses}


# -- "enforce indexes before merging changes that add filters" --------------------------------------


def test_added_filter_on_unindexed_column_is_not_served_until_an_index_exists():
    sql = """SELECT a.id FROM appointments a
             WHERE a.clinic_id = :clinic_id AND a.appointment_date_time >= :since AND a.rating = 5
             ORDER BY a.appointment_date_time LIMIT 20"""
    before = "SELECT a.id FROM appointments a WHERE a.clinic_id = :clinic_id AND a.appointment_date_time >= :since " \
             "ORDER BY a.appointment_date_time LIMIT 20"
    _, ok = access(before)
    assert ok["a"].served and ok["a"].index_name == "ix_appointments_clinic_date"

    _, broken = access(sql)
    a = broken["a"]
    assert not a.served
    assert a.match.missing == {"rating"}
    suggestion = ideal_index(a.need, tenant_key="clinic_id")
    assert suggestion.keys == ("clinic_id", "rating", "appointment_date_time")

    with_index = catalog(Index("ix_new", "appointments", ("clinic_id", "rating", "appointment_date_time")))
    _, fixed = access(sql, with_index)
    assert fixed["a"].served and fixed["a"].index_name == "ix_new"


def test_equalities_must_lead_the_index():
    need = Need("appointments", equal=("clinic_id",), range=("appointment_date_time",))
    wrong_order = Index("i", "appointments", ("appointment_date_time", "clinic_id"))
    assert serving_index(need, [wrong_order]) is None
    assert serving_index(need, [Index("j", "appointments", ("clinic_id", "appointment_date_time"))]).name == "j"


def test_every_equality_must_be_in_the_prefix_before_the_range():
    _, acc = access("SELECT a.id FROM appointments a WHERE a.clinic_id = :c AND a.patient_id = :p "
                    "AND a.appointment_date_time > now() LIMIT 5")
    # patient_id has no foreign key in this catalog, so clinic_id is not implied by it: both must lead.
    a = acc["a"]
    assert a.need.equal == ("clinic_id", "patient_id")
    assert not a.served and len(a.match.missing) == 1
    assert ideal_index(a.need, tenant_key="clinic_id").keys == ("clinic_id", "patient_id", "appointment_date_time")


def test_tenant_key_implied_by_a_foreign_key_to_a_tenant_table_need_not_be_indexed():
    _, acc = access("SELECT count(*) FROM appointments a WHERE a.clinic_id = :c AND a.doctor_id = :d",
                    catalog(Index("ix_doctor", "appointments", ("doctor_id",))))
    assert acc["a"].need.equal == ("doctor_id",)
    assert acc["a"].need.optional == {"clinic_id"}
    assert acc["a"].index_name == "ix_doctor"


def test_order_by_must_follow_the_equalities_in_a_consistent_direction():
    need = Need("appointments", equal=("clinic_id",), order=(("appointment_date_time", True), ("id", True)))
    both_desc = Index("a", "appointments", ("clinic_id", "appointment_date_time", "id"), (False, True, True))
    both_asc = Index("b", "appointments", ("clinic_id", "appointment_date_time", "id"))  # backward scan
    mixed = Index("c", "appointments", ("clinic_id", "appointment_date_time", "id"), (False, True, False))
    assert match_index(need, both_desc).served
    assert match_index(need, both_asc).served
    assert not match_index(need, mixed).served


def test_order_by_without_limit_is_not_required_from_the_index_and_allow_sort_waives_it():
    sql = "SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND d.is_active ORDER BY d.email LIMIT 10"
    _, acc = access(sql)
    assert not acc["d"].served
    _, acc = access(sql, allow_sort=True)
    assert acc["d"].served


def test_partial_index_is_used_only_when_the_query_implies_its_predicate():
    _, acc = access("SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND d.is_active ORDER BY d.name LIMIT 10")
    assert acc["d"].index_name == "ix_doctors_clinic_active"
    _, acc = access("SELECT d.id FROM doctors d WHERE d.clinic_id = :c ORDER BY d.name LIMIT 10")
    assert not acc["d"].served  # without `is_active` the partial index cannot answer


def test_unique_index_fully_pinned_is_a_single_row_lookup():
    result, acc = access("SELECT d.name FROM doctors d WHERE d.id = :id AND d.clinic_id = :c")
    assert acc["d"].match.tail == "unique"
    assert not result.unbounded


def test_in_index_filter_after_the_range_column_counts():
    cat = catalog(Index("ix_cds", "appointments", ("clinic_id", "appointment_date_time", "status")))
    _, acc = access("SELECT a.id FROM appointments a WHERE a.clinic_id = :c AND a.status IN ('A', 'B') "
                    "AND a.appointment_date_time >= :f ORDER BY a.appointment_date_time LIMIT 50", cat)
    assert acc["a"].index_name == "ix_cds"
    assert acc["a"].match.in_index == {"status"}


def test_residual_filters_are_declared_and_accepted():
    sql = "SELECT a.id FROM appointments a WHERE a.clinic_id = :c AND a.status = 'X' LIMIT 5"
    assert not access(sql)[1]["a"].served
    assert access(sql, residual=["appointments.status"])[1]["a"].served


def test_joined_table_is_looked_up_by_its_join_keys():
    result, acc = access("""SELECT a.id, d.name FROM appointments a JOIN doctors d ON d.id = a.doctor_id
                            WHERE a.clinic_id = :c AND a.appointment_date_time >= now()
                            ORDER BY a.appointment_date_time LIMIT 10""")
    assert acc["d"].need.equal == ("id",)
    assert acc["d"].index_name == "doctors_pkey"
    assert acc["d"].isolated is True  # reached from a clinic-filtered reference
    assert not result.unbounded


def test_the_filtered_reference_drives_whatever_the_from_order():
    _, acc = access("""SELECT a.id, d.name FROM doctors d JOIN appointments a ON a.doctor_id = d.id
                            WHERE a.clinic_id = :c AND a.appointment_date_time >= now()
                            ORDER BY a.appointment_date_time LIMIT 10""")
    assert acc["a"].driver and not acc["d"].driver
    assert acc["a"].index_name == "ix_appointments_clinic_date"
    assert acc["d"].need.equal == ("id",) and acc["d"].index_name == "doctors_pkey"


def test_correlated_subquery_is_looked_up_by_the_outer_key():
    _, acc = access("""SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND d.is_active AND EXISTS (
                         SELECT 1 FROM appointments a WHERE a.patient_id = d.id) ORDER BY d.name LIMIT 5""")
    assert acc["a"].need.equal == ("patient_id",)
    assert acc["a"].index_name == "ix_appointments_patient_date"


def test_join_on_an_unindexed_column_is_reported():
    _, acc = access("""SELECT a.id, d.id FROM appointments a JOIN doctors d ON d.name = a.status
                       WHERE a.clinic_id = :c AND d.clinic_id = :c LIMIT 10""")
    assert not acc["d"].served and "name" in acc["d"].match.missing


# -- tenant isolation ---------------------------------------------------------------------------------


def test_query_without_tenant_filter_is_not_isolated():
    _, acc = access("SELECT a.id FROM appointments a WHERE a.patient_id = :p LIMIT 5")
    assert acc["a"].isolated is False


def test_tenant_filter_through_an_equality_chain_and_on_the_tenant_table():
    _, acc = access("""SELECT a.id, c.name FROM clinics c JOIN appointments a ON a.clinic_id = c.id
                       WHERE c.id = :clinic_id LIMIT 5""")
    assert acc["c"].isolated and acc["a"].isolated


def test_tenant_filter_in_a_correlated_subquery_is_inherited():
    _, acc = access("""SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND EXISTS (
                         SELECT 1 FROM appointments a WHERE a.doctor_id = d.id AND a.rating = 5) LIMIT 5""")
    assert acc["a"].isolated is True


def test_tenant_table_read_without_its_id_is_not_isolated():
    _, acc = access("SELECT c.id FROM clinics c WHERE c.name = :n")
    assert acc["c"].isolated is False


# -- other smells -------------------------------------------------------------------------------------


def test_select_star_and_unbounded_list():
    result = analyze("SELECT *\nFROM appointments a WHERE a.clinic_id = :c", catalog())
    assert result.select_star == [1]
    assert result.unbounded
    assert not analyze("SELECT count(*) FROM appointments a WHERE a.clinic_id = :c", catalog()).unbounded
    assert not analyze("SELECT a.status, count(*) FROM appointments a WHERE a.clinic_id = :c GROUP BY 1",
                       catalog()).unbounded


def test_function_on_indexed_column_is_flagged_unless_an_expression_index_exists():
    sql = "SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND lower(d.email) = :e"
    result = analyze(sql, catalog())
    assert [(p.key, p.column) for p in result.functions] == [("LOWER(email)", "email")]
    cast = analyze("SELECT a.id FROM appointments a WHERE a.clinic_id = :c\n  AND a.appointment_date_time::date = :d "
                   "LIMIT 5", catalog())
    assert [(p.column, p.line) for p in cast.functions] == [("appointment_date_time", 2)]
    expression_index = catalog()
    doctors = expression_index.tables["doctors"]
    tables = dict(expression_index.tables)
    tables["doctors"] = TableInfo("doctors", doctors.columns,
                                  (*doctors.indexes, Index("ix_lower", "doctors", ("LOWER(email)",))),
                                  doctors.foreign_keys)
    indexed = analyze(sql, Catalog(tables, "clinic_id", "clinics"))
    assert indexed.functions == []


def test_leading_wildcard_needs_a_trigram_index():
    sql = "SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND d.name ILIKE :q LIMIT 5"
    assert [w for _, w in analyze(sql, catalog(), samples=[{"q": "%smith%"}]).wildcards] == ["%smith%"]
    assert analyze(sql, catalog(), samples=[{"q": "smith%"}]).wildcards == []
    literal = "SELECT d.id FROM doctors d WHERE d.clinic_id = :c AND d.name LIKE '%' || :q LIMIT 5"
    assert len(analyze(literal, catalog()).wildcards) == 1
    tables = dict(catalog().tables)
    doctors = tables["doctors"]
    tables["doctors"] = TableInfo("doctors", doctors.columns, (*doctors.indexes, Index(
        "ix_trgm", "doctors", ("name",), method="gin", opclasses=("gin_trgm_ops",))), doctors.foreign_keys)
    assert analyze(literal, Catalog(tables, "clinic_id", "clinics")).wildcards == []


def test_unknown_table_and_column_are_analysis_errors_with_a_line():
    with pytest.raises(AnalysisError) as exc:
        analyze("SELECT 1\nFROM nowhere", catalog())
    assert "nowhere" in exc.value.message and exc.value.line == 2
    with pytest.raises(AnalysisError, match="missing_column"):
        analyze("SELECT a.missing_column FROM appointments a WHERE a.clinic_id = 1", catalog())


def test_create_index_sql_for_partial_and_descending_suggestions():
    need = Need("doctors", equal=("clinic_id", "is_active"), order=(("name", True),),
                fixed=frozenset({("is_active", "is_active = TRUE")}), conjuncts=frozenset({"is_active = TRUE"}))
    assert create_index_sql(ideal_index(need, tenant_key="clinic_id")) == (
        "CREATE INDEX CONCURRENTLY ix_doctors_clinic_id_name ON doctors (clinic_id, name DESC) WHERE is_active;"
    )

"""healthcare: tenant isolation by row-level security, the application role, patient-name search

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Every clinic-owned table gets a policy that shows and accepts only the rows of
the transaction's clinic, ``current_setting('app.tenant_id')`` (set with
``SET LOCAL`` by platformdb's ``Database.transaction(tenant=…)``). A
transaction that never set it sees no row and can write none. The policies
apply to every role except the tables' owner and superusers, so tenant
transactions switch (``SET LOCAL ROLE``) to ``platform_app``, a NOLOGIN role
created here when missing, with only the privileges the application needs.
Production applications log in as a role that is a member of
``platform_app`` (``GRANT platform_app TO app_login``).

Name search: PostgreSQL never uses an index for a non-leakproof condition
such as ``ILIKE`` on a table whose row-level security applies (it must check
the policy first), so a patient-name search under RLS would scan the whole
clinic. ``clinic_patient_ids_by_name`` runs the search as the owner
(SECURITY DEFINER, fixed search_path) through a trigram index, pinned to the
transaction's clinic by the same setting, and returns only that clinic's
patient ids.

Indexes: ``ix_users_name_trgm`` (the search above) and ``ix_users_clinic_staff``
(active staff by role, partial).

Lock safety: each policy is created and each table switched to RLS in its own
short transaction (ACCESS EXCLUSIVE for an instant, behind lock_timeout); the
indexes are built CONCURRENTLY.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "platform_app"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
# table -> its tenant column (clinics is the tenant itself)
TENANT_TABLES = {
    "clinics": "id",
    "users": "clinic_id",
    "patients": "clinic_id",
    "doctors": "clinic_id",
    "appointments": "clinic_id",
    "appointment_audit_logs": "clinic_id",
    "doctor_availability": "clinic_id",
}
# What the application may do per table (the audit log is append-only; clinics are managed by the platform).
PRIVILEGES = {
    "clinics": "SELECT",
    "appointment_audit_logs": "SELECT, INSERT",
}


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction (and blocking everyone behind us).
    op.execute("SET lock_timeout = '2s'")
    # Roles are cluster-wide: the fashion database's revision may have created it already (or be doing so now).
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in TENANT_TABLES:
        op.execute(f"GRANT {PRIVILEGES.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON {table} TO {APP_ROLE}")
    op.execute(
        f"""
        CREATE FUNCTION clinic_patient_ids_by_name(search text) RETURNS bigint[]
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public
        AS $$
            SELECT coalesce(array_agg(p.id ORDER BY p.id), '{{}}')
            FROM users AS u
            JOIN patients AS p ON p.user_id = u.id
            WHERE u.clinic_id = {TENANT}
              AND p.clinic_id = u.clinic_id
              AND length(search) >= 3
              AND u.name ILIKE '%' || replace(replace(replace(search, '^', '^^'), '%', '^%'), '_', '^_') || '%' ESCAPE '^'
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION clinic_patient_ids_by_name(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION clinic_patient_ids_by_name(text) TO {APP_ROLE}")
    with op.get_context().autocommit_block():
        for table, column in TENANT_TABLES.items():
            # One short transaction each: the policy first (inert until RLS is enabled), then RLS on.
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING ({column} = {TENANT}) WITH CHECK ({column} = {TENANT})"
            )
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_name_trgm ON users USING gin (name gin_trgm_ops)")
        # Active staff of a clinic by role: a few % of the users. (Under RLS an enum comparison is never an index
        # condition, but it proves this partial index's predicate.)
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_users_clinic_staff ON users (clinic_id, created_at DESC, id DESC) "
            "WHERE is_active AND role_type <> 'PATIENT'"
        )


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_clinic_staff")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_name_trgm")
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute("DROP FUNCTION IF EXISTS clinic_patient_ids_by_name(text)")
    for table in TENANT_TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    # The role is cluster-wide (the fashion database uses it too) and pg_trgm may serve others: both stay.

"""fashion: tenant isolation by row-level security and the application role

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Every studio-owned table gets a policy that shows and accepts only the rows of
the transaction's studio, ``current_setting('app.tenant_id')`` (set with
``SET LOCAL`` by platformdb's ``Database.transaction(tenant=…)``). A
transaction that never set it sees no row and can write none. The policies
apply to every role except the tables' owner and superusers, so tenant
transactions switch (``SET LOCAL ROLE``) to ``platform_app``, a NOLOGIN role
created here when missing (the healthcare revision may have created it: roles
are cluster-wide), with only the privileges the application needs.

Lock safety: each policy is created and each table switched to RLS in its own
short transaction (ACCESS EXCLUSIVE for an instant, behind lock_timeout).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "platform_app"
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
# table -> its tenant column (studios is the tenant itself)
TENANT_TABLES = {
    "studios": "id",
    "designers": "studio_id",
    "clients": "studio_id",
    "collections": "studio_id",
    "products": "studio_id",
    "fittings": "studio_id",
    "orders": "studio_id",
    "order_lines": "studio_id",
}
# What the application may do per table (studios are managed by the platform).
PRIVILEGES = {"studios": "SELECT"}


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction (and blocking everyone behind us).
    op.execute("SET lock_timeout = '2s'")
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
    for table in TENANT_TABLES:
        op.execute(f"GRANT {PRIVILEGES.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON {table} TO {APP_ROLE}")
    with op.get_context().autocommit_block():
        for table, column in TENANT_TABLES.items():
            # One short transaction each: the policy first (inert until RLS is enabled), then RLS on.
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING ({column} = {TENANT}) WITH CHECK ({column} = {TENANT})"
            )
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    with op.get_context().autocommit_block():
        for table in TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    for table in TENANT_TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
    # The role is cluster-wide (the healthcare database uses it too): it stays.

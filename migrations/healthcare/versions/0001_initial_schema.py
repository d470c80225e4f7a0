"""healthcare: initial schema (clinics, users, patients, doctors, appointments, audit log, availability)

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Every table is created here, so plain CREATE INDEX is lock-safe (nobody can
hold a lock on a table that did not exist). Later revisions that index an
existing table must use CREATE INDEX CONCURRENTLY in an autocommit_block().

appointment_audit_logs is partitioned by month on performed_at; this revision
creates the partitions for a window around the day it runs (3 months back,
3 months ahead) plus a DEFAULT partition; partition maintenance adds the
following months.
"""

import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLE_TYPE = postgresql.ENUM('SUPER_ADMIN', 'CLINIC_ADMIN', 'DOCTOR', 'NURSE', 'RECEPTIONIST', 'PATIENT', name='role_type', create_type=False)
APPOINTMENT_STATUS = postgresql.ENUM('SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED', name='appointment_status', create_type=False)
AUDIT_ACTION = postgresql.ENUM('CREATED', 'TRANSFERRED', 'RESCHEDULED', 'CANCELLED', 'COMPLETED', name='audit_action', create_type=False)
SLOT_STATUS = postgresql.ENUM('AVAILABLE', 'BOOKED', name='slot_status', create_type=False)


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction (and blocking everyone behind us).
    op.execute("SET lock_timeout = '2s'")
    op.execute("CREATE TYPE role_type AS ENUM ('SUPER_ADMIN', 'CLINIC_ADMIN', 'DOCTOR', 'NURSE', 'RECEPTIONIST', 'PATIENT')")
    op.execute("CREATE TYPE appointment_status AS ENUM ('SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED')")
    op.execute("CREATE TYPE audit_action AS ENUM ('CREATED', 'TRANSFERRED', 'RESCHEDULED', 'CANCELLED', 'COMPLETED')")
    op.execute("CREATE TYPE slot_status AS ENUM ('AVAILABLE', 'BOOKED')")
    op.create_table('clinics',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('address', sa.Text(), nullable=True),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.Column('email', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('clinics_pkey')),
        sa.UniqueConstraint('name', name=op.f('clinics_name_key'))
    )
    op.create_table('users',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=True),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('email', sa.Text(), nullable=False),
        sa.Column('role_type', ROLE_TYPE, nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('is_verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("clinic_id IS NOT NULL OR role_type = 'SUPER_ADMIN'", name=op.f('users_clinic_required_check')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('users_clinic_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('users_pkey')),
        sa.UniqueConstraint('clinic_id', 'email', name=op.f('users_clinic_id_email_key'), postgresql_nulls_not_distinct=True)
    )
    op.create_index('ix_users_clinic_active_created', 'users', ['clinic_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('is_active'))
    op.create_table('doctors',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('specialty', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('doctors_clinic_id_fkey')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('doctors_user_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('doctors_pkey')),
        sa.UniqueConstraint('user_id', name=op.f('doctors_user_id_key'))
    )
    op.create_index('ix_doctors_clinic_specialty', 'doctors', ['clinic_id', 'specialty'], unique=False)
    op.create_table('patients',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('date_of_birth', sa.Date(), nullable=True),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('patients_clinic_id_fkey')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('patients_user_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('patients_pkey')),
        sa.UniqueConstraint('user_id', name=op.f('patients_user_id_key'))
    )
    op.create_index('ix_patients_clinic_id', 'patients', ['clinic_id'], unique=False)
    op.create_table('appointments',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('doctor_id', sa.BigInteger(), nullable=False),
        sa.Column('appointment_date_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), server_default=sa.text('30'), nullable=False),
        sa.Column('status', APPOINTMENT_STATUS, server_default='SCHEDULED', nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=True),
        sa.Column('updated_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 1440', name=op.f('appointments_duration_range_check')),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('appointments_rating_range_check')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('appointments_clinic_id_fkey')),
        sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('appointments_doctor_id_fkey')),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('appointments_patient_id_fkey')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('appointments_updated_by_fkey'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('appointments_pkey')),
        sa.UniqueConstraint('doctor_id', 'appointment_date_time', name=op.f('appointments_doctor_id_appointment_date_time_key'))
    )
    op.create_index('ix_appointments_clinic_date', 'appointments', ['clinic_id', 'appointment_date_time', 'status'], unique=False)
    op.create_index('ix_appointments_clinic_status', 'appointments', ['clinic_id', 'status'], unique=False)
    op.create_index('ix_appointments_patient_date', 'appointments', ['patient_id', 'appointment_date_time'], unique=False)
    op.create_index('ix_appointments_updated_by', 'appointments', ['updated_by'], unique=False, postgresql_where=sa.text('updated_by IS NOT NULL'))
    op.create_table('appointment_audit_logs',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), nullable=False),
        sa.Column('action', AUDIT_ACTION, nullable=False),
        sa.Column('previous_doctor_id', sa.BigInteger(), nullable=True),
        sa.Column('new_doctor_id', sa.BigInteger(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('performed_by', sa.BigInteger(), nullable=True),
        sa.Column('performed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('appointment_audit_logs_appointment_id_fkey')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('appointment_audit_logs_clinic_id_fkey')),
        sa.PrimaryKeyConstraint('id', 'performed_at', name=op.f('appointment_audit_logs_pkey')),
        postgresql_partition_by='RANGE (performed_at)'
    )
    op.create_index('ix_appointment_audit_logs_appointment', 'appointment_audit_logs', ['appointment_id', 'performed_at'], unique=False)
    op.create_index('ix_appointment_audit_logs_clinic_performed', 'appointment_audit_logs', ['clinic_id', sa.literal_column('performed_at DESC')], unique=False)
    op.create_table('doctor_availability',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('clinic_id', sa.BigInteger(), nullable=False),
        sa.Column('doctor_id', sa.BigInteger(), nullable=False),
        sa.Column('slot_date_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', SLOT_STATUS, server_default='AVAILABLE', nullable=False),
        sa.Column('appointment_id', sa.BigInteger(), nullable=True),
        sa.CheckConstraint("appointment_id IS NULL OR status = 'BOOKED'", name=op.f('doctor_availability_booked_has_appointment_check')),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('doctor_availability_appointment_id_fkey'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('doctor_availability_clinic_id_fkey')),
        sa.ForeignKeyConstraint(['doctor_id'], ['doctors.id'], name=op.f('doctor_availability_doctor_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('doctor_availability_pkey')),
        sa.UniqueConstraint('doctor_id', 'slot_date_time', name=op.f('doctor_availability_doctor_id_slot_date_time_key'))
    )
    op.create_index('ix_doctor_availability_appointment', 'doctor_availability', ['appointment_id'], unique=False, postgresql_where=sa.text('appointment_id IS NOT NULL'))
    op.create_index('ix_doctor_availability_clinic_slot', 'doctor_availability', ['clinic_id', 'slot_date_time'], unique=False)

    _create_audit_partitions(datetime.datetime.now(datetime.UTC).date(), months_back=3, months_ahead=3)


def _month_start(day: datetime.date, offset: int) -> datetime.date:
    """The first day of the month ``offset`` months after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + offset
    return datetime.date(index // 12, index % 12 + 1, 1)


def _create_audit_partitions(today: datetime.date, *, months_back: int, months_ahead: int) -> None:
    for offset in range(-months_back, months_ahead + 1):
        start, end = _month_start(today, offset), _month_start(today, offset + 1)
        op.execute(
            f"CREATE TABLE appointment_audit_logs_p{start:%Y%m} PARTITION OF appointment_audit_logs "
            # explicit UTC: a bare date would be read in the session's time zone
            f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')"
        )
    op.execute("CREATE TABLE appointment_audit_logs_default PARTITION OF appointment_audit_logs DEFAULT")


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    # Dropping the partitioned parent drops its partitions, whatever months exist by then.
    op.drop_table('doctor_availability')
    op.drop_table('appointment_audit_logs')
    op.drop_table('appointments')
    op.drop_table('doctors')
    op.drop_table('patients')
    op.drop_table('users')
    op.drop_table('clinics')
    op.execute("DROP TYPE slot_status")
    op.execute("DROP TYPE audit_action")
    op.execute("DROP TYPE appointment_status")
    op.execute("DROP TYPE role_type")

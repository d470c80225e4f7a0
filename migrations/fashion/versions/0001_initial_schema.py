"""fashion: initial schema (studios, designers, clients, collections, products, fittings, orders)

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Every table is created here, so plain CREATE INDEX is lock-safe (nobody can
hold a lock on a table that did not exist). Later revisions that index an
existing table must use CREATE INDEX CONCURRENTLY in an autocommit_block().
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

COLLECTION_STATUS = postgresql.ENUM('DRAFT', 'PUBLISHED', 'ARCHIVED', name='collection_status', create_type=False)
FITTING_STATUS = postgresql.ENUM('SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED', name='fitting_status', create_type=False)
ORDER_STATUS = postgresql.ENUM('PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', name='order_status', create_type=False)


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction (and blocking everyone behind us).
    op.execute("SET lock_timeout = '2s'")
    op.execute("CREATE TYPE collection_status AS ENUM ('DRAFT', 'PUBLISHED', 'ARCHIVED')")
    op.execute("CREATE TYPE fitting_status AS ENUM ('SCHEDULED', 'CONFIRMED', 'COMPLETED', 'CANCELLED')")
    op.execute("CREATE TYPE order_status AS ENUM ('PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')")
    op.create_table('studios',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('city', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('studios_pkey')),
        sa.UniqueConstraint('name', name=op.f('studios_name_key'))
    )
    op.create_table('clients',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('email', sa.Text(), nullable=False),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('clients_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('clients_pkey')),
        sa.UniqueConstraint('studio_id', 'email', name=op.f('clients_studio_id_email_key'))
    )
    op.create_index('ix_clients_studio_active_created', 'clients', ['studio_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('is_active'))
    op.create_table('designers',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('email', sa.Text(), nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('designers_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('designers_pkey')),
        sa.UniqueConstraint('studio_id', 'email', name=op.f('designers_studio_id_email_key'))
    )
    op.create_table('collections',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('designer_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('season', sa.Text(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('status', COLLECTION_STATUS, server_default='DRAFT', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('year BETWEEN 1900 AND 2999', name=op.f('collections_year_range_check')),
        sa.ForeignKeyConstraint(['designer_id'], ['designers.id'], name=op.f('collections_designer_id_fkey')),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('collections_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('collections_pkey')),
        sa.UniqueConstraint('studio_id', 'name', name=op.f('collections_studio_id_name_key'))
    )
    op.create_index('ix_collections_designer', 'collections', ['designer_id'], unique=False)
    op.create_table('fittings',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.BigInteger(), nullable=False),
        sa.Column('designer_id', sa.BigInteger(), nullable=False),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), server_default=sa.text('60'), nullable=False),
        sa.Column('status', FITTING_STATUS, server_default='SCHEDULED', nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 1440', name=op.f('fittings_duration_range_check')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fittings_client_id_fkey')),
        sa.ForeignKeyConstraint(['designer_id'], ['designers.id'], name=op.f('fittings_designer_id_fkey')),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('fittings_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('fittings_pkey')),
        sa.UniqueConstraint('client_id', 'scheduled_at', name=op.f('fittings_client_id_scheduled_at_key'))
    )
    op.create_index('ix_fittings_designer_scheduled', 'fittings', ['designer_id', 'scheduled_at'], unique=False)
    op.create_index('ix_fittings_studio_scheduled', 'fittings', ['studio_id', 'scheduled_at'], unique=False)
    op.create_table('orders',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('client_id', sa.BigInteger(), nullable=False),
        sa.Column('status', ORDER_STATUS, server_default='PENDING', nullable=False),
        sa.Column('total_cents', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('currency', sa.CHAR(length=3), server_default='EUR', nullable=False),
        sa.Column('ordered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('orders_currency_iso_check')),
        sa.CheckConstraint('total_cents >= 0', name=op.f('orders_total_nonnegative_check')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('orders_client_id_fkey')),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('orders_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('orders_pkey')),
        sa.UniqueConstraint('client_id', 'ordered_at', name=op.f('orders_client_id_ordered_at_key'))
    )
    op.create_index('ix_orders_studio_ordered', 'orders', ['studio_id', sa.literal_column('ordered_at DESC')], unique=False)
    op.create_table('products',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('collection_id', sa.BigInteger(), nullable=False),
        sa.Column('sku', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('price_cents', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.CHAR(length=3), server_default='EUR', nullable=False),
        sa.Column('stock', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('products_currency_iso_check')),
        sa.CheckConstraint('price_cents >= 0', name=op.f('products_price_nonnegative_check')),
        sa.CheckConstraint('stock >= 0', name=op.f('products_stock_nonnegative_check')),
        sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('products_collection_id_fkey')),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('products_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('products_pkey')),
        sa.UniqueConstraint('studio_id', 'sku', name=op.f('products_studio_id_sku_key'))
    )
    op.create_index('ix_products_collection', 'products', ['collection_id'], unique=False)
    op.create_table('order_lines',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('studio_id', sa.BigInteger(), nullable=False),
        sa.Column('order_id', sa.BigInteger(), nullable=False),
        sa.Column('product_id', sa.BigInteger(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('unit_price_cents', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('quantity > 0', name=op.f('order_lines_quantity_positive_check')),
        sa.CheckConstraint('unit_price_cents >= 0', name=op.f('order_lines_unit_price_nonnegative_check')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('order_lines_order_id_fkey'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('order_lines_product_id_fkey')),
        sa.ForeignKeyConstraint(['studio_id'], ['studios.id'], name=op.f('order_lines_studio_id_fkey')),
        sa.PrimaryKeyConstraint('id', name=op.f('order_lines_pkey')),
        sa.UniqueConstraint('order_id', 'product_id', name=op.f('order_lines_order_id_product_id_key'))
    )
    op.create_index('ix_order_lines_product', 'order_lines', ['product_id'], unique=False)
    op.create_index('ix_order_lines_studio', 'order_lines', ['studio_id'], unique=False)


def downgrade() -> None:
    op.execute("SET lock_timeout = '2s'")
    op.drop_table('order_lines')
    op.drop_table('orders')
    op.drop_table('fittings')
    op.drop_table('products')
    op.drop_table('collections')
    op.drop_table('clients')
    op.drop_table('designers')
    op.drop_table('studios')
    op.execute("DROP TYPE order_status")
    op.execute("DROP TYPE fitting_status")
    op.execute("DROP TYPE collection_status")

"""Fashion models: the source of truth of the fashion database.

Tenant key ``studio_id`` (tenant table ``studios``): every studio-owned table
carries it. Every foreign key has a supporting index led by the FK column(s)
(a unique constraint counts). Hot queries and the index serving each:

- orders of a studio by date: ``ix_orders_studio_ordered`` (studio_id, ordered_at DESC);
- a client's fittings: ``fittings_client_id_scheduled_at_key``;
- products of a collection: ``ix_products_collection``;
- order lines of an order: ``order_lines_order_id_product_id_key``;
- active clients of a studio, newest first: ``ix_clients_studio_active_created`` (partial).
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from platformdb._conventions import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, identity_key, now, pg_enum

# The business enums are defined once, in the domain; the native PostgreSQL enum types below are built
# from them (the dependency points from the database layer to the domain, never back).
from platformdb.fashion.domain import CollectionStatus, FittingStatus, OrderStatus

COLLECTION_STATUS = pg_enum(CollectionStatus, "collection_status")
FITTING_STATUS = pg_enum(FittingStatus, "fitting_status")
ORDER_STATUS = pg_enum(OrderStatus, "order_status")

# ISO 4217 code: three upper-case letters.
CURRENCY_CHECK = "currency ~ '^[A-Z]{3}$'"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class Studio(Base):
    """The tenant."""

    __tablename__ = "studios"

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    city: Mapped[str | None]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())


class Designer(Base):
    __tablename__ = "designers"
    # Also serves the studio_id FK.
    __table_args__ = (sa.UniqueConstraint("studio_id", "email"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    name: Mapped[str]
    email: Mapped[str]
    is_active: Mapped[bool] = mapped_column(server_default=sa.text("true"))
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())


class Client(Base):
    """A studio's customer; soft-deleted via ``deleted_at``."""

    __tablename__ = "clients"
    __table_args__ = (
        sa.UniqueConstraint("studio_id", "email"),
        sa.Index(
            "ix_clients_studio_active_created",
            "studio_id",
            sa.text("created_at DESC"),
            sa.text("id DESC"),
            postgresql_where=sa.text("is_active"),
        ),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    name: Mapped[str]
    email: Mapped[str]
    phone: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=sa.text("true"))
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())
    deleted_at: Mapped[datetime.datetime | None]


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (
        # Natural key; also serves the studio_id FK.
        sa.UniqueConstraint("studio_id", "name"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2999", name="year_range"),
        sa.Index("ix_collections_designer", "designer_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    designer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("designers.id"))
    name: Mapped[str]
    season: Mapped[str]
    year: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[CollectionStatus] = mapped_column(COLLECTION_STATUS, server_default=CollectionStatus.DRAFT.value)
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())


class Product(Base):
    """A garment for sale; prices in integer cents (never floats)."""

    __tablename__ = "products"
    __table_args__ = (
        # Natural key; also serves the studio_id FK.
        sa.UniqueConstraint("studio_id", "sku"),
        sa.CheckConstraint("price_cents >= 0", name="price_nonnegative"),
        sa.CheckConstraint("stock >= 0", name="stock_nonnegative"),
        sa.CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        # Products of a collection; serves the collection_id FK.
        sa.Index("ix_products_collection", "collection_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    collection_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("collections.id"))
    sku: Mapped[str]
    name: Mapped[str]
    price_cents: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.CHAR(3), server_default="EUR")
    stock: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("0"))
    is_active: Mapped[bool] = mapped_column(server_default=sa.text("true"))
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())


class Fitting(Base):
    """A client's fitting appointment with a designer."""

    __tablename__ = "fittings"
    __table_args__ = (
        # A client is in at most one fitting starting at a given instant; serves "a client's
        # fittings" (client_id, scheduled_at) and the client_id FK.
        sa.UniqueConstraint("client_id", "scheduled_at"),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_range"),
        sa.Index("ix_fittings_designer_scheduled", "designer_id", "scheduled_at"),
        sa.Index("ix_fittings_studio_scheduled", "studio_id", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    client_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clients.id"))
    designer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("designers.id"))
    scheduled_at: Mapped[datetime.datetime]
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("60"))
    status: Mapped[FittingStatus] = mapped_column(FITTING_STATUS, server_default=FittingStatus.SCHEDULED.value)
    notes: Mapped[str | None]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())

    client: Mapped[Client] = relationship(lazy="raise")
    designer: Mapped[Designer] = relationship(lazy="raise")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # Natural key: a client places at most one order at a given instant; serves the client_id FK.
        sa.UniqueConstraint("client_id", "ordered_at"),
        sa.CheckConstraint("total_cents >= 0", name="total_nonnegative"),
        sa.CheckConstraint(CURRENCY_CHECK, name="currency_iso"),
        # Orders of a studio by date, newest first; serves the studio_id FK.
        sa.Index("ix_orders_studio_ordered", "studio_id", sa.text("ordered_at DESC")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    client_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clients.id"))
    status: Mapped[OrderStatus] = mapped_column(ORDER_STATUS, server_default=OrderStatus.PENDING.value)
    total_cents: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.text("0"))
    currency: Mapped[str] = mapped_column(sa.CHAR(3), server_default="EUR")
    ordered_at: Mapped[datetime.datetime] = mapped_column(server_default=now())
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())

    client: Mapped[Client] = relationship(lazy="raise")
    lines: Mapped[list[OrderLine]] = relationship(lazy="raise", order_by="OrderLine.id")


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        # One line per product per order; serves "lines of an order" and the order_id FK.
        sa.UniqueConstraint("order_id", "product_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_cents >= 0", name="unit_price_nonnegative"),
        sa.Index("ix_order_lines_product", "product_id"),
        sa.Index("ix_order_lines_studio", "studio_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("studios.id"))
    order_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price_cents: Mapped[int] = mapped_column(sa.BigInteger)

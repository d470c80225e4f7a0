"""Database → domain mappers for fashion (the guideline's mapper layer).

Each mapper takes a database row — a generated ``db_types`` dataclass, an ORM
model instance, or anything with the same attributes — and returns the domain
type. ``db_row`` builds a ``db_types`` dataclass from a mapping (a psycopg
``dict_row`` or a SQLAlchemy ``Row._mapping``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Protocol

from platformdb._mapping import db_row as db_row  # re-exported for callers
from platformdb.fashion import db_types, domain


def studio_to_domain(db: db_types.Studio) -> domain.Studio:
    return domain.Studio(id=db.id, name=db.name, city=db.city)


def designer_to_domain(db: db_types.Designer) -> domain.Designer:
    return domain.Designer(id=db.id, studio_id=db.studio_id, name=db.name, email=db.email, is_active=db.is_active)


def client_to_domain(db: db_types.Client) -> domain.Client:
    return domain.Client(
        id=db.id, studio_id=db.studio_id, name=db.name, email=db.email, phone=db.phone, is_active=db.is_active
    )


def collection_to_domain(db: db_types.Collection) -> domain.Collection:
    return domain.Collection(
        id=db.id,
        studio_id=db.studio_id,
        designer_id=db.designer_id,
        name=db.name,
        season=db.season,
        year=db.year,
        status=domain.CollectionStatus(db.status),
    )


def product_to_domain(db: db_types.Product) -> domain.Product:
    return domain.Product(
        id=db.id,
        studio_id=db.studio_id,
        collection_id=db.collection_id,
        sku=db.sku,
        name=db.name,
        price=domain.Money(db.price_cents, db.currency),
        stock=db.stock,
        is_active=db.is_active,
    )


def fitting_to_domain(db: db_types.Fitting) -> domain.Fitting:
    return domain.Fitting(
        id=db.id,
        studio_id=db.studio_id,
        client_id=db.client_id,
        designer_id=db.designer_id,
        starts_at=db.scheduled_at,
        duration=datetime.timedelta(minutes=db.duration_minutes),
        status=domain.FittingStatus(db.status),
        notes=db.notes,
    )


def order_to_domain(db: db_types.Order, lines: Iterable[db_types.OrderLine] = ()) -> domain.Order:
    return domain.Order(
        id=db.id,
        studio_id=db.studio_id,
        client_id=db.client_id,
        status=domain.OrderStatus(db.status),
        total=domain.Money(db.total_cents, db.currency),
        ordered_at=db.ordered_at,
        lines=tuple(
            domain.OrderLine(
                id=line.id,
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price=domain.Money(line.unit_price_cents, db.currency),
            )
            for line in sorted(lines, key=lambda line: line.id)
        ),
    )


class OrderLineDetailRow(Protocol):
    id: int
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price_cents: int


def order_line_detail_to_domain(row: OrderLineDetailRow, currency: str) -> domain.OrderLineDetail:
    return domain.OrderLineDetail(id=row.id, product_id=row.product_id, sku=row.sku, product_name=row.name,
                                  quantity=row.quantity, unit_price=domain.Money(row.unit_price_cents, currency))


class UpcomingFittingRow(Protocol):
    id: int
    scheduled_at: datetime.datetime
    duration_minutes: int
    status: str
    designer_id: int
    designer_name: str


def upcoming_fitting_to_domain(row: UpcomingFittingRow) -> domain.UpcomingFitting:
    return domain.UpcomingFitting(id=row.id, starts_at=row.scheduled_at,
                                  duration=datetime.timedelta(minutes=row.duration_minutes),
                                  status=domain.FittingStatus(row.status), designer_id=row.designer_id,
                                  designer_name=row.designer_name)

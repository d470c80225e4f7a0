"""Fashion domain types (the guideline's ``@types``): the contract services and DTOs use.

Hand-written, frozen, and independent of the database: this module never
imports ``models`` or ``db_types`` (an import-linter contract in
``.importlinter`` enforces it). ``mappers`` turns database rows into these.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass


class CollectionStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class FittingStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents) and an ISO 4217 currency.

    >>> str(Money(129050, "EUR"))
    '1290.50 EUR'
    """

    cents: int
    currency: str

    def __str__(self) -> str:
        return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"


@dataclass(frozen=True, slots=True)
class Studio:
    id: int
    name: str
    city: str | None


@dataclass(frozen=True, slots=True)
class Designer:
    id: int
    studio_id: int
    name: str
    email: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    studio_id: int
    name: str
    email: str
    phone: str | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    studio_id: int
    designer_id: int
    name: str
    season: str
    year: int
    status: CollectionStatus


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    studio_id: int
    collection_id: int
    sku: str
    name: str
    price: Money
    stock: int
    is_active: bool


@dataclass(frozen=True, slots=True)
class Fitting:
    id: int
    studio_id: int
    client_id: int
    designer_id: int
    starts_at: datetime.datetime
    duration: datetime.timedelta
    status: FittingStatus
    notes: str | None


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: int
    product_id: int
    quantity: int
    unit_price: Money

    @property
    def subtotal(self) -> Money:
        return Money(self.unit_price.cents * self.quantity, self.unit_price.currency)


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    studio_id: int
    client_id: int
    status: OrderStatus
    total: Money
    ordered_at: datetime.datetime
    lines: tuple[OrderLine, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """Filters of a studio's order list; every one optional, the list always paged (newest first)."""

    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    statuses: tuple[OrderStatus, ...] = ()
    client_id: int | None = None


@dataclass(frozen=True, slots=True)
class OrderLineDetail:
    """An order line with its product's SKU and name (one statement for all of an order's lines)."""

    id: int
    product_id: int
    sku: str
    product_name: str
    quantity: int
    unit_price: Money

    @property
    def subtotal(self) -> Money:
        return Money(self.unit_price.cents * self.quantity, self.unit_price.currency)


@dataclass(frozen=True, slots=True)
class OrderDetails:
    order: Order
    lines: tuple[OrderLineDetail, ...]


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    product_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class UpcomingFitting:
    """A client's fitting with the designer's name (a hot query's result)."""

    id: int
    starts_at: datetime.datetime
    duration: datetime.timedelta
    status: FittingStatus
    designer_id: int
    designer_name: str


@dataclass(frozen=True, slots=True)
class OrderStatusTotal:
    status: OrderStatus
    orders: int
    total: Money


@dataclass(frozen=True, slots=True)
class OrderStats:
    """A studio's orders since a date, by status and currency."""

    orders: int
    by_status: tuple[OrderStatusTotal, ...]


@dataclass(frozen=True, slots=True)
class DesignerPerformance:
    designer_id: int
    fittings: int
    distinct_clients: int

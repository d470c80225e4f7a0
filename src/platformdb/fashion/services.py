"""Fashion use cases: placing an order with its lines, booking a fitting — each one transaction of one studio.

Concurrency, as in healthcare: row locks in a fixed order decide who wins.
An order locks its products in id order before checking stock, so two orders
for the last unit queue and the second finds the stock gone (``OutOfStock``);
a fitting locks its designer's row before looking for an overlapping fitting,
so two bookings of the same designer's time queue and the second sees the
first's fitting (``SlotUnavailable``). The table's ``stock >= 0`` check and
``(client_id, scheduled_at)`` unique constraint back both in the schema.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from platformdb import errors
from platformdb.database import violated_constraint
from platformdb.events import DomainEvent, record_event
from platformdb.fashion import domain
from platformdb.fashion.repositories import (
    ClientRepository,
    DesignerRepository,
    FittingRepository,
    OrderRepository,
    ProductRepository,
)
from platformdb.service import Service, unit_of_work

CLIENT_TIME_TAKEN = "fittings_client_id_scheduled_at_key"
ORDER_INSTANT_TAKEN = "orders_client_id_ordered_at_key"


class OrderService(Service):
    """Orders of one studio."""

    @unit_of_work()
    def place_order(self, session: Session, *, client_id: int, lines: Sequence[domain.NewOrderLine]) -> domain.Order:
        """An order with its lines at the products' current prices, stock taken — or ``OutOfStock``/``NotFound``."""
        if not lines:
            raise errors.InvalidInput("an order needs at least one line")
        quantities: dict[int, int] = {}
        for line in lines:
            if line.quantity <= 0:
                raise errors.InvalidInput(f"quantity of product {line.product_id} must be positive")
            quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
        client = ClientRepository(session, self.tenant_id).get(client_id)
        if not client.is_active:
            raise errors.InvalidState(f"client {client_id} is not active")
        products = ProductRepository(session, self.tenant_id)
        locked = products.lock_many(list(quantities))
        for product_id, quantity in quantities.items():
            product = locked.get(product_id)
            if product is None or not product.is_active:
                raise errors.NotFound("product", product_id)
            if product.stock < quantity:
                raise errors.OutOfStock(f"{product.sku}: {quantity} wanted, {product.stock} left")
        currencies = {locked[i].price.currency for i in quantities}
        if len(currencies) != 1:
            raise errors.InvalidInput(f"an order is in one currency; these products are in {sorted(currencies)}")
        (currency,) = currencies
        products.take_stock(quantities)
        total = sum(locked[i].price.cents * q for i, q in quantities.items())
        orders = OrderRepository(session, self.tenant_id)
        try:
            order = orders.create(client_id=client_id, total_cents=total, currency=currency)
        except sa_exc.IntegrityError as exc:
            if violated_constraint(exc) == ORDER_INSTANT_TAKEN:
                raise errors.Conflict(f"client {client_id} placed another order at the same instant") from None
            raise
        added = orders.add_lines(
            order.id, [(i, q, locked[i].price.cents) for i, q in sorted(quantities.items())], currency
        )
        record_event(
            session,
            DomainEvent(
                "order.placed",
                {"order_id": order.id, "client_id": client_id, "total_cents": total, "currency": currency},
                tenant=self.tenant_id,
            ),
        )
        return domain.Order(
            id=order.id,
            studio_id=order.studio_id,
            client_id=order.client_id,
            status=order.status,
            total=order.total,
            ordered_at=order.ordered_at,
            lines=tuple(added),
        )

    @unit_of_work(read_only=True)
    def get_order(self, session: Session, order_id: int) -> domain.OrderDetails:
        return OrderRepository(session, self.tenant_id).get_with_lines(order_id)


class FittingService(Service):
    """Fittings of one studio."""

    @unit_of_work()
    def book_fitting(
        self,
        session: Session,
        *,
        client_id: int,
        designer_id: int,
        starts_at: datetime.datetime,
        duration_minutes: int = 60,
        notes: str | None = None,
    ) -> domain.Fitting:
        """A fitting of a client with a designer — or ``SlotUnavailable`` when either is busy then."""
        if not 0 < duration_minutes <= 1440:
            raise errors.InvalidInput("a fitting lasts between 1 minute and 24 hours")
        designer = DesignerRepository(session, self.tenant_id).lock(designer_id)
        if not designer.is_active:
            raise errors.InvalidState(f"designer {designer_id} is not active")
        ClientRepository(session, self.tenant_id).get(client_id)
        fittings = FittingRepository(session, self.tenant_id)
        ends_at = starts_at + datetime.timedelta(minutes=duration_minutes)
        if fittings.designer_busy(designer_id, starts_at, ends_at):
            raise errors.SlotUnavailable(f"designer {designer_id} is busy at {starts_at:%Y-%m-%d %H:%M}")
        try:
            fitting = fittings.create(
                client_id=client_id,
                designer_id=designer_id,
                scheduled_at=starts_at,
                duration_minutes=duration_minutes,
                notes=notes,
            )
        except sa_exc.IntegrityError as exc:
            if violated_constraint(exc) == CLIENT_TIME_TAKEN:
                raise errors.SlotUnavailable(
                    f"client {client_id} already has a fitting at {starts_at:%Y-%m-%d %H:%M}"
                ) from None
            raise
        record_event(
            session,
            DomainEvent(
                "fitting.booked",
                {
                    "fitting_id": fitting.id,
                    "client_id": client_id,
                    "designer_id": designer_id,
                    "starts_at": starts_at.isoformat(),
                },
                tenant=self.tenant_id,
            ),
        )
        return fitting

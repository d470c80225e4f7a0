"""Fashion repositories: one studio's clients, designers, collections, products, orders, fittings, analytics.

The same shapes as healthcare (``platformdb.healthcare.repositories``, whose
docstring explains the row-level-security constraints on the queries): built
for a session and a studio, every statement carries ``studio_id``, lists are
bounded, hot queries are ``HotStatement`` objects budgeted in budgets.yaml.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from platformdb import errors
from platformdb.fashion import domain, mappers, models
from platformdb.repository import HotStatement, KeysetPage, Page, TenantRepository, issues, literal, table_of

clients = table_of(models.Client)
designers = table_of(models.Designer)
collections = table_of(models.Collection)
products = table_of(models.Product)
orders = table_of(models.Order)
order_lines = table_of(models.OrderLine)
fittings = table_of(models.Fitting)

MAX_FITTING_MINUTES = 1440  # fittings_duration_range_check: bounds the overlap search window
ACTIVE_FITTINGS = (domain.FittingStatus.SCHEDULED, domain.FittingStatus.CONFIRMED)

c, o, ol, p, f, d, col = (
    clients.alias("c"),
    orders.alias("o"),
    order_lines.alias("ol"),
    products.alias("p"),
    fittings.alias("f"),
    designers.alias("d"),
    collections.alias("col"),
)
_studio: sa.BindParameter[Any] = sa.bindparam("studio_id")
_client_columns = (c.c.id, c.c.studio_id, c.c.name, c.c.email, c.c.phone, c.c.is_active, c.c.created_at)
_newest_clients = (c.c.created_at.desc(), c.c.id.desc())
_order_columns = (o.c.id, o.c.studio_id, o.c.client_id, o.c.status, o.c.total_cents, o.c.currency, o.c.ordered_at)


# -- hot statements (budgets.yaml: schemas.fashion.queries.<name>) ---------------------------------------------------

STUDIO_ACTIVE_CLIENTS_PAGE = HotStatement(
    "studio_active_clients_page",
    sa.select(*_client_columns)
    .where(c.c.studio_id == _studio, c.c.is_active)
    .order_by(*_newest_clients)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset")),
)
STUDIO_ACTIVE_CLIENTS_COUNT = HotStatement(
    "studio_active_clients_count",
    sa.select(sa.func.count().label("total")).select_from(c).where(c.c.studio_id == _studio, c.c.is_active),
)
STUDIO_ACTIVE_CLIENTS_KEYSET = HotStatement(
    "studio_active_clients_keyset",
    sa.select(*_client_columns)
    .where(
        c.c.studio_id == _studio,
        c.c.is_active,
        sa.tuple_(c.c.created_at, c.c.id) < sa.tuple_(sa.bindparam("after_created_at"), sa.bindparam("after_id")),
    )
    .order_by(*_newest_clients)
    .limit(sa.bindparam("limit")),
)
CLIENT_BY_EMAIL = HotStatement(
    "client_by_email",
    sa.select(*_client_columns).where(
        c.c.studio_id == _studio, c.c.email == sa.bindparam("email"), c.c.deleted_at.is_(None)
    ),
)


@cache
def orders_statement(
    *, start: bool = False, end: bool = False, statuses: bool = False, client: bool = False, after: bool = False
) -> sa.Select[Any]:
    """A studio's orders, newest first, for one combination of filters (keyset ``after`` = (ordered_at, id))."""
    conditions: list[sa.ColumnElement[bool]] = [o.c.studio_id == _studio]
    if start:
        conditions.append(o.c.ordered_at >= sa.bindparam("from_time"))
    if end:
        conditions.append(o.c.ordered_at < sa.bindparam("to_time"))
    if statuses:
        conditions.append(o.c.status == sa.any_(sa.cast(sa.bindparam("statuses"), ARRAY(models.ORDER_STATUS))))
    if client:
        conditions.append(o.c.client_id == sa.bindparam("client_id"))
    if after:
        conditions.append(
            sa.tuple_(o.c.ordered_at, o.c.id) < sa.tuple_(sa.bindparam("after_time"), sa.bindparam("after_id"))
        )
    return (
        sa.select(*_order_columns)
        .where(*conditions)
        .order_by(o.c.ordered_at.desc(), o.c.id.desc())
        .limit(sa.bindparam("limit"))
    )


@cache
def _orders_page(**shape: bool) -> HotStatement:
    return HotStatement("orders", orders_statement(**shape))


STUDIO_ORDERS_BY_DATE = HotStatement("studio_orders_by_date", orders_statement(start=True, end=True))
CLIENT_ORDERS = HotStatement("client_orders", orders_statement(client=True))
ORDER_WITH_LINES = HotStatement(
    "order_with_lines",
    sa.select(ol.c.id, ol.c.product_id, p.c.sku, p.c.name, ol.c.quantity, ol.c.unit_price_cents)
    .select_from(ol.join(p, p.c.id == ol.c.product_id))
    .where(ol.c.studio_id == _studio, ol.c.order_id == sa.bindparam("order_id"))
    .order_by(ol.c.id)
    .limit(sa.bindparam("limit")),
)
COLLECTION_PRODUCTS = HotStatement(
    "collection_products",
    sa.select(
        p.c.id,
        p.c.studio_id,
        p.c.collection_id,
        p.c.sku,
        p.c.name,
        p.c.price_cents,
        p.c.currency,
        p.c.stock,
        p.c.is_active,
    )
    .where(p.c.studio_id == _studio, p.c.collection_id == sa.bindparam("collection_id"), p.c.is_active)
    .order_by(p.c.name)
    .limit(sa.bindparam("limit")),
)
STUDIO_COLLECTIONS_BY_STATUS = HotStatement(
    "studio_collections_by_status",
    sa.select(col.c.id, col.c.studio_id, col.c.designer_id, col.c.name, col.c.season, col.c.year, col.c.status)
    .where(col.c.studio_id == _studio, col.c.status == sa.bindparam("status"))
    .order_by(col.c.year.desc(), col.c.name)
    .limit(sa.bindparam("limit")),
)
CLIENT_FITTINGS = HotStatement(
    "client_fittings",
    sa.select(
        f.c.id, f.c.scheduled_at, f.c.duration_minutes, f.c.status, f.c.designer_id, d.c.name.label("designer_name")
    )
    .select_from(f.join(d, d.c.id == f.c.designer_id))
    .where(
        f.c.studio_id == _studio,
        f.c.client_id == sa.bindparam("client_id"),
        f.c.scheduled_at >= sa.bindparam("from_time"),
    )
    .order_by(f.c.scheduled_at)
    .limit(sa.bindparam("limit")),
)
DESIGNER_OVERLAPPING_FITTINGS = HotStatement(
    "designer_overlapping_fittings",
    # Fittings last at most MAX_FITTING_MINUTES: one starting earlier than that cannot overlap, which
    # bounds the index range scan on (designer_id, scheduled_at).
    sa.select(f.c.id)
    .where(
        f.c.studio_id == _studio,
        f.c.designer_id == sa.bindparam("designer_id"),
        f.c.scheduled_at > sa.bindparam("window_start"),
        f.c.scheduled_at < sa.bindparam("ends_at"),
        f.c.scheduled_at + f.c.duration_minutes * sa.literal_column("interval '1 minute'", sa.Interval)
        > sa.bindparam("starts_at"),
        f.c.status.in_([literal(x) for x in ACTIVE_FITTINGS]),
    )
    .limit(sa.literal_column("1")),
)
STUDIO_ORDER_STATS = HotStatement(
    "studio_order_stats",
    sa.select(o.c.status, o.c.currency, sa.func.count().label("orders"), sa.func.sum(o.c.total_cents).label("cents"))
    .where(o.c.studio_id == _studio, o.c.ordered_at >= sa.bindparam("since"))
    .group_by(o.c.status, o.c.currency),
)
DESIGNER_PERFORMANCE = HotStatement(
    "designer_performance",
    sa.select(
        sa.func.count().label("fittings"), sa.func.count(f.c.client_id.distinct()).label("distinct_clients")
    ).where(
        f.c.studio_id == _studio,
        f.c.designer_id == sa.bindparam("designer_id"),
        f.c.scheduled_at >= sa.bindparam("since"),
    ),
)


PRODUCTS_LOCK = HotStatement(  # precompiled, not budgeted: a primary-key lookup of an order's few products
    "products_lock",
    sa.select(
        products.c.id,
        products.c.studio_id,
        products.c.collection_id,
        products.c.sku,
        products.c.name,
        products.c.price_cents,
        products.c.currency,
        products.c.stock,
        products.c.is_active,
    )
    .where(
        products.c.studio_id == _studio, products.c.id == sa.any_(sa.cast(sa.bindparam("ids"), ARRAY(sa.BigInteger)))
    )
    .order_by(products.c.id)
    .with_for_update(),
)


# -- repositories ------------------------------------------------------------------------------------------------------


class ClientRepository(TenantRepository[domain.Client]):
    table = clients
    tenant_key = "studio_id"
    entity = "client"
    columns = ("id", "studio_id", "name", "email", "phone", "is_active", "created_at")
    to_domain = staticmethod(mappers.client_to_domain)
    default_order = ("-created_at", "-id")

    @issues(CLIENT_BY_EMAIL)
    def find_by_email(self, email: str) -> domain.Client | None:
        rows = self._rows(CLIENT_BY_EMAIL, {"email": email})
        return mappers.client_to_domain(rows[0]) if rows else None

    @issues(STUDIO_ACTIVE_CLIENTS_PAGE, STUDIO_ACTIVE_CLIENTS_COUNT)
    def active_page(self, *, page: int = 1, per_page: int = 20) -> Page[domain.Client]:
        if page < 1:
            raise errors.InvalidInput(f"page must be 1 or more, not {page}")
        rows = self._rows(STUDIO_ACTIVE_CLIENTS_PAGE, {"limit": self._limit(per_page), "offset": (page - 1) * per_page})
        items = tuple(mappers.client_to_domain(r) for r in rows)
        return Page(items, self._rows(STUDIO_ACTIVE_CLIENTS_COUNT)[0][0], page, per_page)

    @issues(STUDIO_ACTIVE_CLIENTS_PAGE, STUDIO_ACTIVE_CLIENTS_KEYSET)
    def active_after(
        self, after: tuple[datetime.datetime, int] | None = None, *, limit: int = 20
    ) -> KeysetPage[domain.Client]:
        if after is None:
            rows = self._rows(STUDIO_ACTIVE_CLIENTS_PAGE, {"limit": self._limit(limit) + 1, "offset": 0})
        else:
            rows = self._rows(
                STUDIO_ACTIVE_CLIENTS_KEYSET,
                {"after_created_at": after[0], "after_id": after[1], "limit": self._limit(limit) + 1},
            )
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = (rows[-1].created_at, rows[-1].id) if more else None
        return KeysetPage(tuple(mappers.client_to_domain(r) for r in rows), next_after)


class DesignerRepository(TenantRepository[domain.Designer]):
    table = designers
    tenant_key = "studio_id"
    entity = "designer"
    columns = ("id", "studio_id", "name", "email", "is_active")
    to_domain = staticmethod(mappers.designer_to_domain)


class CollectionRepository(TenantRepository[domain.Collection]):
    table = collections
    tenant_key = "studio_id"
    entity = "collection"
    columns = ("id", "studio_id", "designer_id", "name", "season", "year", "status")
    to_domain = staticmethod(mappers.collection_to_domain)

    @issues(STUDIO_COLLECTIONS_BY_STATUS)
    def by_status(self, status: domain.CollectionStatus, *, limit: int = 100) -> list[domain.Collection]:
        """The studio's collections in a status, latest year first."""
        rows = self._rows(STUDIO_COLLECTIONS_BY_STATUS, {"status": status, "limit": self._limit(limit)})
        return [mappers.collection_to_domain(r) for r in rows]


class ProductRepository(TenantRepository[domain.Product]):
    table = products
    tenant_key = "studio_id"
    entity = "product"
    columns = ("id", "studio_id", "collection_id", "sku", "name", "price_cents", "currency", "stock", "is_active")
    to_domain = staticmethod(mappers.product_to_domain)

    @issues(COLLECTION_PRODUCTS)
    def in_collection(self, collection_id: int, *, limit: int = 100) -> list[domain.Product]:
        """Active products of a collection by name."""
        rows = self._rows(COLLECTION_PRODUCTS, {"collection_id": collection_id, "limit": self._limit(limit)})
        return [mappers.product_to_domain(r) for r in rows]

    def lock_many(self, product_ids: Sequence[int]) -> dict[int, domain.Product]:
        """Row-lock these products in id order (a fixed order: concurrent orders queue, never deadlock)."""
        rows = self._rows(PRODUCTS_LOCK, {"ids": sorted(set(product_ids))})
        return {row.id: mappers.product_to_domain(row) for row in rows}

    def take_stock(self, quantities: dict[int, int]) -> None:
        """Decrease stock of locked products (one statement; ``stock >= 0`` is checked by the table too)."""
        ids = sorted(quantities)
        self.session.connection().exec_driver_sql(
            "UPDATE products AS p SET stock = p.stock - v.quantity "
            "FROM unnest(%(ids)s::bigint[], %(quantities)s::integer[]) AS v(id, quantity) "
            "WHERE p.id = v.id AND p.studio_id = %(studio_id)s",
            {"ids": ids, "quantities": [quantities[i] for i in ids], "studio_id": self.tenant_id},
        )


class OrderRepository(TenantRepository[domain.Order]):
    table = orders
    tenant_key = "studio_id"
    entity = "order"
    columns = ("id", "studio_id", "client_id", "status", "total_cents", "currency", "ordered_at")
    to_domain = staticmethod(mappers.order_to_domain)
    default_order = ("-ordered_at", "-id")

    @issues(STUDIO_ORDERS_BY_DATE, CLIENT_ORDERS)
    def find_orders(
        self,
        filters: domain.OrderFilters = domain.OrderFilters(),
        *,
        after: tuple[datetime.datetime, int] | None = None,
        limit: int = 50,
    ) -> KeysetPage[domain.Order]:
        """The studio's orders newest first, filtered (without their lines; ``get_with_lines`` for one order)."""
        params: dict[str, Any] = {"limit": self._limit(limit) + 1}
        if filters.start is not None:
            params["from_time"] = filters.start
        if filters.end is not None:
            params["to_time"] = filters.end
        if filters.statuses:
            params["statuses"] = [domain.OrderStatus(x).value for x in filters.statuses]
        if filters.client_id is not None:
            params["client_id"] = filters.client_id
        if after is not None:
            params["after_time"], params["after_id"] = after
        statement = _orders_page(
            start=filters.start is not None,
            end=filters.end is not None,
            statuses=bool(filters.statuses),
            client=filters.client_id is not None,
            after=after is not None,
        )
        rows = self._rows(statement, params)
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = (rows[-1].ordered_at, rows[-1].id) if more else None
        return KeysetPage(tuple(mappers.order_to_domain(r) for r in rows), next_after)

    @issues(ORDER_WITH_LINES)
    def get_with_lines(self, order_id: int, *, max_lines: int = 500) -> domain.OrderDetails:
        """An order and its lines with product names (two statements); ``NotFound`` for another studio's order."""
        order = self.get(order_id)
        rows = self._rows(ORDER_WITH_LINES, {"order_id": order_id, "limit": self._limit(max_lines)})
        lines = tuple(mappers.order_line_detail_to_domain(r, order.total.currency) for r in rows)
        return domain.OrderDetails(order, lines)

    def add_lines(self, order_id: int, lines: Sequence[tuple[int, int, int]], currency: str) -> list[domain.OrderLine]:
        """Insert (product_id, quantity, unit_price_cents) lines of an order in one statement."""
        result = self.session.connection().exec_driver_sql(
            "INSERT INTO order_lines (studio_id, order_id, product_id, quantity, unit_price_cents) "
            "SELECT %(studio_id)s, %(order_id)s, v.product_id, v.quantity, v.unit_price_cents "
            "FROM unnest(%(products)s::bigint[], %(quantities)s::integer[], %(prices)s::bigint[]) "
            "AS v(product_id, quantity, unit_price_cents) "
            "RETURNING id, product_id, quantity, unit_price_cents",
            {
                "studio_id": self.tenant_id,
                "order_id": order_id,
                "products": [x[0] for x in lines],
                "quantities": [x[1] for x in lines],
                "prices": [x[2] for x in lines],
            },
        )
        return [
            domain.OrderLine(id=r[0], product_id=r[1], quantity=r[2], unit_price=domain.Money(r[3], currency))
            for r in result
        ]


class FittingRepository(TenantRepository[domain.Fitting]):
    table = fittings
    tenant_key = "studio_id"
    entity = "fitting"
    columns = ("id", "studio_id", "client_id", "designer_id", "scheduled_at", "duration_minutes", "status", "notes")
    to_domain = staticmethod(mappers.fitting_to_domain)
    default_order = ("scheduled_at", "id")

    @issues(CLIENT_FITTINGS)
    def upcoming_for_client(
        self, client_id: int, *, since: datetime.datetime, limit: int = 20
    ) -> list[domain.UpcomingFitting]:
        rows = self._rows(CLIENT_FITTINGS, {"client_id": client_id, "from_time": since, "limit": self._limit(limit)})
        return [mappers.upcoming_fitting_to_domain(r) for r in rows]

    @issues(DESIGNER_OVERLAPPING_FITTINGS)
    def designer_busy(self, designer_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime) -> bool:
        """Whether the designer has a scheduled or confirmed fitting overlapping [starts_at, ends_at)."""
        window_start = starts_at - datetime.timedelta(minutes=MAX_FITTING_MINUTES)
        rows = self._rows(
            DESIGNER_OVERLAPPING_FITTINGS,
            {"designer_id": designer_id, "window_start": window_start, "starts_at": starts_at, "ends_at": ends_at},
        )
        return bool(rows)


class AnalyticsRepository:
    """A studio's aggregates: one statement each."""

    def __init__(self, session: Session, studio_id: int) -> None:
        if studio_id is None:
            raise errors.TenantRequired("AnalyticsRepository needs a studio_id")
        self.session = session
        self.studio_id = int(studio_id)

    @issues(STUDIO_ORDER_STATS)
    def order_stats(self, *, since: datetime.datetime) -> domain.OrderStats:
        rows = STUDIO_ORDER_STATS.fetch(self.session, {"studio_id": self.studio_id, "since": since})
        by_status = tuple(
            sorted(
                (
                    domain.OrderStatusTotal(
                        domain.OrderStatus(r.status), r.orders, domain.Money(int(r.cents), r.currency)
                    )
                    for r in rows
                ),
                key=lambda t: (list(domain.OrderStatus).index(t.status), t.total.currency),
            )
        )
        return domain.OrderStats(orders=sum(r.orders for r in rows), by_status=by_status)

    @issues(DESIGNER_PERFORMANCE)
    def designer_performance(self, designer_id: int, *, since: datetime.datetime) -> domain.DesignerPerformance:
        (row,) = DESIGNER_PERFORMANCE.fetch(
            self.session, {"studio_id": self.studio_id, "designer_id": designer_id, "since": since}
        )
        return domain.DesignerPerformance(designer_id, row.fittings, row.distinct_clients)


HOT_STATEMENTS: Sequence[HotStatement] = (
    STUDIO_ACTIVE_CLIENTS_PAGE,
    STUDIO_ACTIVE_CLIENTS_COUNT,
    STUDIO_ACTIVE_CLIENTS_KEYSET,
    CLIENT_BY_EMAIL,
    STUDIO_ORDERS_BY_DATE,
    CLIENT_ORDERS,
    ORDER_WITH_LINES,
    COLLECTION_PRODUCTS,
    STUDIO_COLLECTIONS_BY_STATUS,
    CLIENT_FITTINGS,
    DESIGNER_OVERLAPPING_FITTINGS,
    STUDIO_ORDER_STATS,
    DESIGNER_PERFORMANCE,
)

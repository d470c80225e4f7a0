"""Synthetic fashion data: N clients across studios of very different sizes.

Shape (for N clients; the tests measure it on generated data):

- studios: ~N/250, sizes Zipf-distributed; each studio sells in one currency
  (EUR 60 %, USD 25 %, GBP 15 %);
- clients: sign-ups grow linearly over three years (ids follow time); 3 %
  soft-deleted, a few % inactive; 70 % with a phone;
- designers: one per ~60 clients of a studio (at least one);
- collections: 1-8 per designer (seasons of the studio's years); ARCHIVED when
  old, PUBLISHED recent, DRAFT upcoming;
- products: 5-40 per collection, prices log-normal around €150, 20 % out of
  stock, products of archived collections often inactive;
- fittings: ~1.3 per client (many none), with a "primary" designer, skewed
  to recent months plus the next two; past ones mostly COMPLETED;
- orders: ~1.9 per client (geometric: most clients few, some many), skewed to
  recent months, statuses by age (old: DELIVERED; recent: PENDING/PAID/
  SHIPPED); total_cents is the sum of the order's lines;
- order_lines: 1-5 distinct products of the studio per order, at the
  product's price.

Ids are explicit (``offsets`` continue after existing rows for ``append``),
so foreign keys are consistent by construction and every row carries its
studio's id. All work is vectorised (numpy) a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np

from dbops.scale.binary import Masked
from dbops.scale.common import (
    BATCH,
    CITIES,
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    SchemaData,
    Spill,
    cum,
    draw,
    phones,
    rng,
    zipf_cum,
)
from dbops.scale.text import Pool, Text

CLIENT_DAYS = 3 * 365
STUDIO_DAYS = 5 * 365
FUTURE_DAYS = 60
CURRENCIES = Pool(["EUR", "USD", "GBP"])
CURRENCY_CUM = cum([60, 25, 15])
SEASONS = Pool(["Spring/Summer", "Autumn/Winter", "Resort", "Pre-Fall"])
THEMES = Pool(["Noir", "Riviera", "Atlas", "Bloom", "Urban", "Heritage", "Lumen", "Tide", "Ember", "Verde"])
COLLECTION_STATUS = Pool(["DRAFT", "PUBLISHED", "ARCHIVED"])
DRAFT, PUBLISHED, ARCHIVED = range(3)
GARMENTS = Pool([f"{color} {garment}" for color in ("Black", "Ivory", "Navy", "Camel", "Olive", "Rose", "Grey", "Red")
                 for garment in ("Dress", "Blazer", "Coat", "Skirt", "Shirt", "Trousers", "Knit", "Bag", "Scarf")])
FITTING_STATUS = Pool(["SCHEDULED", "CONFIRMED", "COMPLETED", "CANCELLED"])
SCHEDULED, CONFIRMED, COMPLETED, CANCELLED = range(4)
PAST_FITTING_CUM = cum([3, 2, 80, 15])
FUTURE_FITTING_CUM = cum([55, 38, 0, 7])
FITTING_MINUTES = np.array([30, 45, 60, 90])
FITTING_MINUTES_CUM = cum([20, 30, 40, 10])
NOTES = Pool(["bring heels", "alterations: hem", "second fitting", "bridal", "measurements update", "rush order",
              "fabric swatches", "client prefers mornings"])
ORDER_STATUS = Pool(["PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"])
OLD_ORDER_CUM = cum([0, 3, 2, 87, 8])
RECENT_ORDER_CUM = cum([20, 40, 30, 5, 5])
LINES_CUM = cum([40, 30, 15, 10, 5])  # 1..5 lines per order
QUANTITY_CUM = cum([80, 15, 5])  # 1..3 of an item


class FashionData(SchemaData):
    """The generator; ``stages()`` yields the tables in foreign-key order."""

    tables = ("studios", "designers", "clients", "collections", "products", "fittings", "orders", "order_lines")
    spilled = ("order_lines",)  # generated with their orders (totals), COPY-ed right after them
    history_months = 25  # fittings and orders go back two years

    def __init__(self, scale: int, seed: int, today: date, offsets: dict[str, int], spill: Spill) -> None:
        super().__init__(scale, seed, today, offsets, spill)
        self.n_studios = max(1, min(round(scale / 250), scale // 5))
        self.phones = phones(rng(seed, "pools"))
        designers = scale // 60 + self.n_studios
        self.expected = {
            "studios": self.n_studios, "designers": designers, "clients": scale, "collections": designers * 4,
            "products": designers * 4 * 22, "fittings": int(scale * 1.3), "orders": int(scale * 1.85),
            "order_lines": int(scale * 1.85 * 2.1),
        }

    def _studios(self) -> Iterator[dict]:
        r = rng(self.seed, "studios")
        s = self.n_studios
        zipf = np.diff(zipf_cum(s), prepend=0.0)
        self.studio_cum = cum(zipf[r.permutation(s)])
        self.studio_ids = self.off["studios"] + 1 + np.arange(s, dtype=np.int64)
        self.studio_created = self.clock.days_ago(CLIENT_DAYS + r.random(s) * (STUDIO_DAYS - CLIENT_DAYS))
        self.studio_currency = draw(r, CURRENCY_CUM, s)
        city = r.integers(0, len(CITIES), s)
        yield {
            "id": self.studio_ids,
            "name": Text.pool(THEMES, r.integers(0, len(THEMES), s)) + " Atelier " + Text.digits(self.studio_ids),
            "city": Text.pool(Pool(CITIES), city),
            "created_at": self.studio_created,
        }

    def _client_plan(self) -> None:
        """Which studio each client joins and when (needed for the designers before the clients)."""
        r = rng(self.seed, "client-plan")
        index = np.arange(self.n, dtype=np.int64)
        self.client_studio = draw(r, self.studio_cum, self.n)
        jitter = (index * 2654435761) % 3600 * SECOND
        self.client_created = self.clock.growth(index / self.n, CLIENT_DAYS) - jitter
        self.client_ids = self.off["clients"] + 1 + index
        order = np.argsort(self.client_studio, kind="stable")
        self.sc_client, self.sc_created = self.client_ids[order], self.client_created[order]
        self.sc_index = order  # client index, studio-major
        counts = np.bincount(self.client_studio, minlength=self.n_studios)
        self.client_count, self.client_start = counts, np.cumsum(counts) - counts

    def _designers(self) -> Iterator[dict]:
        self._client_plan()
        r = rng(self.seed, "designers")
        per_studio = 1 + self.client_count // 60
        studio = np.repeat(np.arange(self.n_studios), per_studio)
        d = len(studio)
        ids = self.off["designers"] + 1 + np.arange(d, dtype=np.int64)
        self.designer_ids, self.designer_studio = ids, studio
        self.designer_count, self.designer_start = per_studio, np.cumsum(per_studio) - per_studio
        created = self.studio_created[studio] + ((self.clock.now - self.studio_created[studio]) * r.random(d) * 0.5).astype(np.int64)
        self.designer_created = created
        who = r.integers(0, self.names.size, d)
        yield {
            "id": ids,
            "studio_id": self.studio_ids[studio],
            "name": Text.pool(self.names.names, who),
            "email": Text.pool(self.names.locals, who) + ".d" + Text.digits(ids) + "@studio.example.com",
            "is_active": r.random(d) < 0.9,
            "created_at": created,
        }

    def _clients(self) -> Iterator[dict]:
        now = self.clock.now
        for start in range(0, self.n, BATCH):
            r = rng(self.seed, "clients", start)
            part = slice(start, start + BATCH)
            ids, created = self.client_ids[part], self.client_created[part]
            size = len(ids)
            who = r.integers(0, self.names.size, size)
            deleted = r.random(size) < 0.03
            yield {
                "id": ids,
                "studio_id": self.studio_ids[self.client_studio[part]],
                "name": Text.pool(self.names.names, who),
                "email": Text.pool(self.names.locals, who) + "." + Text.digits(ids) + "@example.com",
                "phone": Masked(Text.pool(self.phones, r.integers(0, len(self.phones), size)), r.random(size) >= 0.7),
                "is_active": ~deleted & (r.random(size) < 0.95),
                "created_at": created,
                "deleted_at": Masked(created + ((now - created) * r.random(size)).astype(np.int64), ~deleted),
            }

    def _collections(self) -> Iterator[dict]:
        r = rng(self.seed, "collections")
        per_designer = 1 + np.minimum(r.poisson(3.0, len(self.designer_ids)), 7)
        designer = np.repeat(np.arange(len(self.designer_ids)), per_designer)
        c = len(designer)
        studio = self.designer_studio[designer]
        this_year = self.clock.today.year
        first_year = (2000 + (self.designer_created[designer] // DAY) // 365).astype(np.int64)
        year = np.minimum(first_year + (r.random(c) * (this_year + 2 - first_year)).astype(np.int64), this_year + 1)
        status = np.where(year > this_year, DRAFT,
                          np.where(year == this_year, np.where(r.random(c) < 0.7, PUBLISHED, DRAFT),
                                   np.where(r.random(c) < 0.8, ARCHIVED, PUBLISHED)))
        jan1 = np.array([(date(int(y), 1, 1) - date(2000, 1, 1)).days for y in range(1990, this_year + 3)]) * DAY
        created = jan1[np.clip(year - 1 - 1990, 0, len(jan1) - 1)] + (r.random(c) * 300 * DAY).astype(np.int64)
        created = np.minimum(np.maximum(created, self.designer_created[designer]), self.clock.now - MINUTE)
        ids = self.off["collections"] + 1 + np.arange(c, dtype=np.int64)
        self.collection_studio, self.collection_status, self.collection_created = studio, status, created
        yield {
            "id": ids,
            "studio_id": self.studio_ids[studio],
            "designer_id": self.designer_ids[designer],
            "name": Text.pool(SEASONS, r.integers(0, len(SEASONS), c)) + " " + Text.digits(year) + " "
            + Text.pool(THEMES, r.integers(0, len(THEMES), c)) + " #" + Text.digits(ids),
            "season": Text.pool(SEASONS, r.integers(0, len(SEASONS), c)),
            "year": year,
            "status": Text.pool(COLLECTION_STATUS, status),
            "created_at": created,
        }
        self.collection_ids = ids

    def _products(self) -> Iterator[dict]:
        r = rng(self.seed, "products")
        per_collection = r.integers(5, 41, len(self.collection_ids))
        collection = np.repeat(np.arange(len(self.collection_ids)), per_collection)
        p = len(collection)
        studio = self.collection_studio[collection]  # studio-major: collections follow designers
        ids = self.off["products"] + 1 + np.arange(p, dtype=np.int64)
        price = np.round(np.exp(r.normal(np.log(15000), 0.8, p)), -2).astype(np.int64) + 500
        archived = self.collection_status[collection] == ARCHIVED
        self.product_ids, self.product_price = ids, price
        counts = np.bincount(studio, minlength=self.n_studios)
        self.product_count, self.product_start = counts, np.cumsum(counts) - counts
        created = np.minimum(self.collection_created[collection] + (r.random(p) * 30 * DAY).astype(np.int64),
                             self.clock.now - MINUTE)
        for start in range(0, p, BATCH):
            part = slice(start, start + BATCH)
            size = len(ids[part])
            yield {
                "id": ids[part],
                "studio_id": self.studio_ids[studio[part]],
                "collection_id": self.collection_ids[collection[part]],
                "sku": Text.const("SKU-", size) + Text.digits(ids[part]),
                "name": Text.pool(GARMENTS, r.integers(0, len(GARMENTS), size)),
                "price_cents": price[part],
                "currency": Text.pool(CURRENCIES, self.studio_currency[studio[part]]),
                "stock": np.where(r.random(size) < 0.2, 0, r.integers(1, 200, size)),
                "is_active": ~(archived[part] & (r.random(size) < 0.6)),
                "created_at": created[part],
            }

    def _per_client(self, r: np.random.Generator, counts: np.ndarray, start: int, horizon_days: int):
        """Events of clients ``start…`` (``counts`` each), with distinct times per client skewed to recent."""
        client = start + np.repeat(np.arange(len(counts)), counts)
        n = len(client)
        created = self.client_created[client]
        end = self.clock.now + horizon_days * DAY
        at = created + ((end - created) * np.sqrt(r.random(n))).astype(np.int64)
        return client, at

    def _fittings(self) -> Iterator[dict]:
        now = self.clock.now
        next_id = self.off["fittings"] + 1
        for start in range(0, self.n, BATCH):
            r = rng(self.seed, "fittings", start)
            size = min(BATCH, self.n - start)
            counts = np.where(r.random(size) < 0.35, 0, 1 + r.poisson(0.9, size))
            client, at = self._per_client(r, counts, start, FUTURE_DAYS)
            at = at - at % DAY + 10 * HOUR + (r.random(len(at)) * 18).astype(np.int64) * 30 * MINUTE
            key = client * (1 << 32) + at // (30 * MINUTE) % (1 << 32)
            _, first = np.unique(key, return_index=True)  # one fitting per client and start time
            first.sort()
            client, at = client[first], at[first]
            n = len(client)
            studio = self.client_studio[client]
            dcount = self.designer_count[studio]
            k = np.where(r.random(n) < 0.7, client % dcount, (r.random(n) * dcount).astype(np.int64))
            future = at >= now
            status = np.where(future, draw(r, FUTURE_FITTING_CUM, n), draw(r, PAST_FITTING_CUM, n))
            created = np.minimum(np.maximum(at - ((1 + 20 * r.random(n)) * DAY).astype(np.int64),
                                            self.client_created[client] + MINUTE), now - MINUTE)
            ids = next_id + np.arange(n, dtype=np.int64)
            next_id += n
            yield {
                "id": ids,
                "studio_id": self.studio_ids[studio],
                "client_id": self.client_ids[client],
                "designer_id": self.designer_ids[self.designer_start[studio] + k],
                "scheduled_at": at,
                "duration_minutes": FITTING_MINUTES[draw(r, FITTING_MINUTES_CUM, n)],
                "status": Text.pool(FITTING_STATUS, status),
                "notes": Masked(Text.pool(NOTES, r.integers(0, len(NOTES), n)), r.random(n) >= 0.3),
                "created_at": created,
            }

    def _orders(self) -> Iterator[dict]:
        """Orders by chunks of clients; each chunk's lines (which make the totals) go to ``spill``."""
        now = self.clock.now
        next_id = self.off["orders"] + 1
        next_line = self.off["order_lines"] + 1
        for start in range(0, self.n, BATCH):
            r = rng(self.seed, "orders", start)
            size = min(BATCH, self.n - start)
            counts = r.geometric(0.35, size) - 1
            client, at = self._per_client(r, counts, start, 0)
            at = np.minimum(at, now - MINUTE) // SECOND * SECOND
            key = client * (1 << 40) + (at // SECOND) % (1 << 40)
            _, first = np.unique(key, return_index=True)  # one order per client and instant
            first.sort()
            client, at = client[first], at[first]
            n = len(client)
            studio = self.client_studio[client]
            has_products = self.product_count[studio] > 0
            client, at, studio = client[has_products], at[has_products], studio[has_products]
            n = len(client)
            ids = next_id + np.arange(n, dtype=np.int64)
            next_id += n
            old = at < now - 14 * DAY
            status = np.where(old, draw(r, OLD_ORDER_CUM, n), draw(r, RECENT_ORDER_CUM, n))
            # lines: 1-5 distinct products of the studio, at the product's price
            per_order = 1 + draw(r, LINES_CUM, n)
            order = np.repeat(np.arange(n), per_order)
            line_studio = studio[order]
            product = self.product_start[line_studio] + (r.random(len(order)) * self.product_count[line_studio]).astype(np.int64)
            _, first = np.unique(order * (1 << 32) + product, return_index=True)
            first.sort()
            order, product = order[first], product[first]
            quantity = 1 + draw(r, QUANTITY_CUM, len(order))
            price = self.product_price[product]
            total = np.bincount(order, weights=quantity * price, minlength=n).astype(np.int64)
            line_ids = next_line + np.arange(len(order), dtype=np.int64)
            next_line += len(order)
            currency = Text.pool(CURRENCIES, self.studio_currency[studio])
            yield {
                "id": ids,
                "studio_id": self.studio_ids[studio],
                "client_id": self.client_ids[client],
                "status": Text.pool(ORDER_STATUS, status),
                "total_cents": total,
                "currency": currency,
                "ordered_at": at,
                "created_at": at,
            }
            self.spill("order_lines", {
                "id": line_ids,
                "studio_id": self.studio_ids[studio[order]],
                "order_id": ids[order],
                "product_id": self.product_ids[product],
                "quantity": quantity,
                "unit_price_cents": price,
            })


"""Seed data of the fashion database: two studios with designers and clients, a
published collection with products, an order with lines and a fitting.

``run(conn, admin_password_hash=...)`` is called by ``dbops seed`` inside one
transaction (fashion has no admin user: the hash is accepted and unused).
Every row is upserted on its natural key (a real unique constraint) with
``ON CONFLICT … DO UPDATE … WHERE <the row differs>``: a second run changes
no row (same ``xmin`` everywhere). Dates are fixed for the same reason.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from dbops.seed import upsert

if TYPE_CHECKING:
    import psycopg

UTC = datetime.UTC


def _at(day: str, time: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


STUDIOS = [
    {"name": "Atelier Nord", "city": "Oslo"},
    {"name": "Maison Lumière", "city": "Paris"},
]

# (studio, name, email)
DESIGNERS = [
    ("Atelier Nord", "Ingrid Solberg", "ingrid@atelier-nord.example"),
    ("Atelier Nord", "Magnus Berg", "magnus@atelier-nord.example"),
    ("Maison Lumière", "Camille Laurent", "camille@maison-lumiere.example"),
]

# (studio, name, email, phone)
CLIENTS = [
    ("Atelier Nord", "Sofie Hansen", "sofie.hansen@mail.example", "+47-555-0101"),
    ("Atelier Nord", "Lars Eriksen", "lars.eriksen@mail.example", None),
    ("Atelier Nord", "Nora Lie", "nora.lie@mail.example", "+47-555-0103"),
    ("Maison Lumière", "Élodie Martin", "elodie.martin@mail.example", "+33-555-0104"),
]

# (studio, designer email, name, season, year, status)
COLLECTIONS = [
    ("Atelier Nord", "ingrid@atelier-nord.example", "Polar Light", "FW", 2026, "PUBLISHED"),
    ("Atelier Nord", "magnus@atelier-nord.example", "Midnight Sun", "SS", 2027, "DRAFT"),
    ("Maison Lumière", "camille@maison-lumiere.example", "Rive Gauche", "FW", 2026, "PUBLISHED"),
]

# (studio, collection, sku, name, price cents, stock)
PRODUCTS = [
    ("Atelier Nord", "Polar Light", "AN-PL-001", "Wool overcoat", 89000, 12),
    ("Atelier Nord", "Polar Light", "AN-PL-002", "Cashmere scarf", 19000, 40),
    ("Atelier Nord", "Polar Light", "AN-PL-003", "Knitted dress", 42000, 8),
    ("Atelier Nord", "Midnight Sun", "AN-MS-001", "Linen shirt", 15500, 0),
    ("Maison Lumière", "Rive Gauche", "ML-RG-001", "Tailored blazer", 125000, 5),
]

# (studio, client email, ordered at, status, [(sku, quantity)])
ORDERS = [
    ("Atelier Nord", "sofie.hansen@mail.example", _at("2026-11-20", "14:32:10"), "PAID",
     [("AN-PL-001", 1), ("AN-PL-002", 2)]),
    ("Maison Lumière", "elodie.martin@mail.example", _at("2026-11-25", "10:05:00"), "PENDING",
     [("ML-RG-001", 1)]),
]

# (studio, client email, designer email, scheduled at, minutes, status, notes)
FITTINGS = [
    ("Atelier Nord", "sofie.hansen@mail.example", "ingrid@atelier-nord.example", _at("2026-12-03", "10:00"), 60,
     "CONFIRMED", "Overcoat: shorten sleeves by 1 cm"),
    ("Maison Lumière", "elodie.martin@mail.example", "camille@maison-lumiere.example", _at("2026-12-08", "16:00"), 45,
     "SCHEDULED", None),
]


def run(conn: psycopg.Connection, *, admin_password_hash: str) -> dict[str, int]:
    """Upsert the seed rows; return the number of seed rows per table."""
    del admin_password_hash  # fashion has no admin account
    counts: dict[str, int] = {}
    studio_ids = {s["name"]: upsert(conn, "studios", ("name",), s) for s in STUDIOS}
    counts["studios"] = len(studio_ids)
    designer_ids = {
        email: upsert(conn, "designers", ("studio_id", "email"),
                       {"studio_id": studio_ids[studio], "name": name, "email": email, "is_active": True})
        for studio, name, email in DESIGNERS
    }
    counts["designers"] = len(designer_ids)
    client_ids = {
        email: upsert(conn, "clients", ("studio_id", "email"),
                       {"studio_id": studio_ids[studio], "name": name, "email": email, "phone": phone,
                        "is_active": True})
        for studio, name, email, phone in CLIENTS
    }
    counts["clients"] = len(client_ids)
    collection_ids = {
        name: upsert(conn, "collections", ("studio_id", "name"),
                      {"studio_id": studio_ids[studio], "designer_id": designer_ids[designer], "name": name,
                       "season": season, "year": year, "status": status})
        for studio, designer, name, season, year, status in COLLECTIONS
    }
    counts["collections"] = len(collection_ids)
    prices: dict[str, int] = {}
    product_ids: dict[str, int] = {}
    for studio, collection, sku, name, price, stock in PRODUCTS:
        prices[sku] = price
        product_ids[sku] = upsert(
            conn, "products", ("studio_id", "sku"),
            {"studio_id": studio_ids[studio], "collection_id": collection_ids[collection], "sku": sku, "name": name,
             "price_cents": price, "currency": "EUR", "stock": stock, "is_active": True},
        )
    counts["products"] = len(product_ids)
    lines = 0
    for studio, client, ordered_at, status, items in ORDERS:
        total = sum(prices[sku] * quantity for sku, quantity in items)
        order_id = upsert(
            conn, "orders", ("client_id", "ordered_at"),
            {"studio_id": studio_ids[studio], "client_id": client_ids[client], "status": status,
             "total_cents": total, "currency": "EUR", "ordered_at": ordered_at},
        )
        for sku, quantity in items:
            upsert(
                conn, "order_lines", ("order_id", "product_id"),
                {"studio_id": studio_ids[studio], "order_id": order_id, "product_id": product_ids[sku],
                 "quantity": quantity, "unit_price_cents": prices[sku]},
            )
            lines += 1
    counts["orders"] = len(ORDERS)
    counts["order_lines"] = lines
    for studio, client, designer, scheduled_at, minutes, status, notes in FITTINGS:
        upsert(
            conn, "fittings", ("client_id", "scheduled_at"),
            {"studio_id": studio_ids[studio], "client_id": client_ids[client], "designer_id": designer_ids[designer],
             "scheduled_at": scheduled_at, "duration_minutes": minutes, "status": status, "notes": notes},
        )
    counts["fittings"] = len(FITTINGS)
    return counts

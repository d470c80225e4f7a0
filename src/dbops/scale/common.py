"""Shared pieces of the synthetic data generators: seeded RNGs, skewed draws, pools, time.

Everything is deterministic for a seed: each generator stage draws from its
own numpy ``Generator`` seeded by a SHA-256 of ``(seed, stage label)``, so
stages do not depend on one another's consumption of random numbers. All
draws are vectorised (a batch at a time): no Python runs per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike

from dbops.scale.binary import MICROS_PER_DAY, to_days
from dbops.scale.text import Pool

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = MICROS_PER_DAY
BATCH = 50_000  # rows per COPY write: big enough for numpy, small enough to stream
UNIX_OFFSET_US = 946_684_800 * SECOND  # 2000-01-01 in Unix microseconds

# spill(table, batch, complete_below=None): rows of another table generated in the same pass (an
# appointment's audit trail, an order's lines), loaded along with that pass instead of being kept or
# re-generated. complete_below (PostgreSQL-epoch microseconds, optional) promises that every row of that
# table spilled later has a partition key at least this, so its earlier partitions can load already.
Spill = Callable[..., None]


def rng(seed: int, *labels: object) -> np.random.Generator:
    """The random generator of one stage of the data.

    >>> float(rng(1, "users", 3).random()) == float(rng(1, "users", 3).random())
    True
    >>> float(rng(1, "users", 3).random()) == float(rng(2, "users", 3).random())
    False
    """
    digest = hashlib.sha256(":".join(str(x) for x in (seed, *labels)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


def cum(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Cumulative weights, normalised to end at 1.

    >>> cum([1, 1, 2]).tolist()
    [0.25, 0.5, 1.0]
    """
    out = np.cumsum(np.asarray(weights, dtype=np.float64))
    return out / out[-1]


def zipf_cum(count: int, exponent: float = 1.1) -> np.ndarray:
    """Cumulative, normalised Zipf weights for ``count`` ranks (rank 1 the biggest).

    >>> [round(x, 3) for x in zipf_cum(3, 1.0).tolist()]
    [0.545, 0.818, 1.0]
    """
    return cum(1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent)


def draw(r: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    """``n`` indexes drawn with the probabilities of a normalised cumulative array.

    >>> draw(rng(0, "x"), cum([0, 1, 0]), 5).tolist()
    [1, 1, 1, 1, 1]
    """
    return np.minimum(np.searchsorted(cumulative, r.random(n), side="right"), len(cumulative) - 1)


@dataclass(frozen=True)
class Clock:
    """The time frame of a dataset: ``today`` (UTC midnight) in PostgreSQL microseconds."""

    today: date

    @property
    def now(self) -> int:
        return to_days(self.today) * DAY

    def days_ago(self, days: ArrayLike) -> np.ndarray:
        return self.now - (np.asarray(days) * DAY).astype(np.int64)

    def growth(self, fraction: ArrayLike, start_days_ago: float) -> np.ndarray:
        """Times in the last ``start_days_ago`` days for ranks ``fraction`` in [0, 1), on a linear
        growth curve (density grows with time: later ranks are denser, like a growing platform).

        >>> c = Clock(date(2026, 11, 29))
        >>> int(c.growth(0.0, 100)) == c.now - 100 * DAY, int(c.growth(0.99999, 100)) > c.now - DAY
        (True, True)
        """
        return self.now - (start_days_ago * DAY * (1.0 - np.sqrt(fraction))).astype(np.int64)


def month_start(micros: ArrayLike) -> np.ndarray:
    """The first instant of the UTC month of PostgreSQL-epoch microseconds (vectorised).

    >>> from dbops.scale.binary import to_micros
    >>> from datetime import datetime, UTC
    >>> int(month_start(np.array([to_micros(datetime(2026, 11, 29, 15, tzinfo=UTC))]))[0]) == to_micros(datetime(2026, 11, 1, tzinfo=UTC))
    True
    """
    unix = (np.asarray(micros, dtype=np.int64) + UNIX_OFFSET_US).astype("datetime64[us]")
    return unix.astype("datetime64[M]").astype("datetime64[us]").astype(np.int64) - UNIX_OFFSET_US


def _words(text: str) -> list[str]:
    """The words of a pool written as text.

    >>> _words("Ada  Bo")
    ['Ada', 'Bo']
    """
    return text.split()


FIRST_NAMES = _words(
    "Ada Alan Alice Amara Amir Ana Andrea Anna Aria Arjun Ava Beatriz Ben Bianca Camila Carlos Chen Chloe Chris "
    "Clara Daniel David Diego Elena Eli Emma Eric Esther Ethan Eva Fatima Felix Fiona Gabriel Grace Hana Hannah "
    "Hugo Ian Ines Isaac Isabel Ivan Jack Jade James Jana Javier Jin Joao Jonas Jose Julia Kai Karim Kate Kenji "
    "Lara Laura Leo Lena Liam Lina Lucas Lucia Luis Maya Marco Maria Mateo Mei Mia Mila Mohamed Nadia Naomi Nina "
    "Noah Nora Oliver Olga Omar Oscar Paula Pedro Priya Rafael Rania Ravi Rosa Ruth Sara Sofia Sami Tariq Theo "
    "Tom Uma Valentina Victor Yara Yusuf Zoe Zara"
)
LAST_NAMES = _words(
    "Abbott Adams Ahmed Ali Alvarez Andersen Bauer Becker Bianchi Brown Campbell Chen Costa Cruz Dubois Dunn "
    "Evans Fischer Fernandez Ferrari Garcia Gomez Green Gupta Hall Hansen Hernandez Hoffmann Ito Jansen Johnson "
    "Kaur Khan Kim Klein Kowalski Kumar Lambert Larsen Lee Lopez Martin Martinez Meyer Moreau Muller Murphy "
    "Nakamura Nguyen Novak Nowak Okafor Olsen Ortiz Park Patel Perez Petrov Popescu Ramos Reyes Ricci Rossi "
    "Russo Sanchez Santos Sato Schmidt Schneider Silva Singh Smith Suzuki Tanaka Taylor Torres Vargas Wagner "
    "Walker Wang Weber Williams Wilson Wong Yamamoto Yilmaz Young Zhang Zimmermann"
)
CITIES = _words(
    "Amsterdam Athens Austin Barcelona Berlin Bogota Boston Brussels Cairo Chicago Copenhagen Dublin Edinburgh "
    "Florence Geneva Hamburg Helsinki Istanbul Lagos Lima Lisbon London Lyon Madrid Manchester Melbourne Milan "
    "Montreal Mumbai Munich Nairobi Naples Oslo Paris Porto Prague Rome Seoul Seville Stockholm Sydney Tokyo "
    "Toronto Valencia Vienna Warsaw Zurich"
)
STREETS = _words("Oak Maple Cedar Elm Pine Lake Hill Park River Main Church Market High Station Mill Bridge")


class NamePool:
    """``First Last`` names and ``first.last`` e-mail local parts, index-aligned pools."""

    def __init__(self) -> None:
        pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
        self.names = Pool([f"{f} {last}" for f, last in pairs])
        self.locals = Pool([f"{f}.{last}".lower() for f, last in pairs])
        self.size = len(pairs)


def fake_hashes(r: np.random.Generator, count: int = 256) -> Pool:
    """bcrypt-shaped strings (60 chars); real hashing would cost ~0.2 s per row."""
    alphabet = np.array(list("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    return Pool(["$2b$12$" + "".join(alphabet[r.integers(0, len(alphabet), 53)]) for _ in range(count)])


def phones(r: np.random.Generator, count: int = 4096) -> Pool:
    """Phone numbers."""
    a, b, c = r.integers(200, 999, count), r.integers(200, 999, count), r.integers(1000, 9999, count)
    return Pool([f"+1-{x}-{y}-{z}" for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)])


class SchemaData:
    """Base of the per-schema generators: the tables in foreign-key order, id offsets, the clock.

    A project plugs its generator in per schema (``[tool.dbops.schemas.<name>] scale =
    "seeds/<name>_scale.py:Class"``); the class declares ``tables`` in foreign-key order,
    ``history_months`` (how far back its time-partitioned rows go: their monthly
    partitions are created before the load), sets ``expected`` (rows per table, an
    estimate for progress) and has a ``_<table>()`` method yielding column batches per
    table. ``spilled`` tables are produced by an earlier table's generator (through
    ``spill``) and COPY-ed right after it; ``stages()`` has None for them.
    """

    tables: tuple[str, ...] = ()
    spilled: tuple[str, ...] = ()
    history_months: int = 0

    def __init__(self, scale: int, seed: int, today: date, offsets: dict[str, int], spill: Spill) -> None:
        self.expected: dict[str, int] = {}
        self.n = scale
        self.seed = seed
        self.spill = spill
        self.clock = Clock(today)
        self.off = {t: int(offsets.get(t, 0)) for t in self.tables}
        self.names = NamePool()

    def stages(self) -> list[tuple[str, Iterator[dict] | None]]:
        """(table, batches) in load order; ``None``: the table's rows were spilled by an earlier stage."""
        return [(t, None if t in self.spilled else getattr(self, f"_{t}")()) for t in self.tables]

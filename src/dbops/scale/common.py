"""Shared pieces of the synthetic data generators: seeded RNGs, skewed draws, pools, time.

Everything is deterministic for a seed: each generator stage draws from its
own ``random.Random`` seeded by ``(seed, stage label)`` (string seeds are
hashed with SHA-512 by ``random``, independent of PYTHONHASHSEED), so a
stage can be re-run (to derive audit rows from appointments without keeping
them in memory) and gives the same values.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dbops.scale.binary import MICROS_PER_DAY, to_days

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = MICROS_PER_DAY
BATCH = 20_000  # rows per COPY write: big enough to amortise calls, small enough to stream


def rng(seed: int, *labels: object) -> random.Random:
    """A generator for one stage of the data.

    >>> rng(1, "users", 3).random() == rng(1, "users", 3).random()
    True
    >>> rng(1, "users", 3).random() == rng(2, "users", 3).random()
    False
    """
    return random.Random(":".join(str(x) for x in (seed, *labels)))


def zipf_cum_weights(count: int, exponent: float = 1.1) -> list[float]:
    """Cumulative Zipf weights for ``count`` ranks (rank 1 the biggest), for ``random.choices``.

    >>> w = zipf_cum_weights(4, 1.0)
    >>> [round(x, 3) for x in w]
    [1.0, 1.5, 1.833, 2.083]
    """
    return list(itertools.accumulate(1.0 / (rank ** exponent) for rank in range(1, count + 1)))


def cum(weights: Sequence[float]) -> list[float]:
    """Cumulative weights.

    >>> cum([1, 2, 3])
    [1, 3, 6]
    """
    return list(itertools.accumulate(weights))


@dataclass(frozen=True)
class Clock:
    """The time frame of a dataset: ``today`` (UTC midnight) in PostgreSQL microseconds."""

    today: date

    @property
    def now(self) -> int:
        return to_days(self.today) * DAY

    def days_ago(self, days: float) -> int:
        return self.now - int(days * DAY)

    def growth(self, fraction: float, start_days_ago: float) -> int:
        """A time in the last ``start_days_ago`` days for a rank ``fraction`` in [0, 1), on a linear
        growth curve (density grows with time: later ranks are denser, like a growing platform).

        >>> c = Clock(date(2026, 11, 29))
        >>> c.growth(0.0, 100) == c.days_ago(100), c.growth(0.99999, 100) > c.days_ago(1)
        (True, True)
        """
        return self.now - int(start_days_ago * DAY * (1.0 - math.sqrt(fraction)))


def month_start_micros(micros: int) -> int:
    """The first instant of the UTC month of ``micros`` (PostgreSQL epoch).

    >>> from dbops.scale.binary import to_micros
    >>> from datetime import datetime, UTC
    >>> month_start_micros(to_micros(datetime(2026, 11, 29, 15, tzinfo=UTC))) == to_micros(datetime(2026, 11, 1, tzinfo=UTC))
    True
    """
    day = date.fromordinal(date(2000, 1, 1).toordinal() + micros // DAY)
    return to_days(day.replace(day=1)) * DAY


FIRST_NAMES = (
    "Ada Alan Alice Amara Amir Ana Andrea Anna Aria Arjun Ava Beatriz Ben Bianca Camila Carlos Chen Chloe Chris "
    "Clara Daniel David Diego Elena Eli Emma Eric Esther Ethan Eva Fatima Felix Fiona Gabriel Grace Hana Hannah "
    "Hugo Ian Ines Isaac Isabel Ivan Jack Jade James Jana Javier Jin Joao Jonas Jose Julia Kai Karim Kate Kenji "
    "Lara Laura Leo Lena Liam Lina Lucas Lucia Luis Maya Marco Maria Mateo Mei Mia Mila Mohamed Nadia Naomi Nina "
    "Noah Nora Oliver Olga Omar Oscar Paula Pedro Priya Rafael Rania Ravi Rosa Ruth Sara Sofia Sami Tariq Theo "
    "Tom Uma Valentina Victor Yara Yusuf Zoe Zara"
).split()
LAST_NAMES = (
    "Abbott Adams Ahmed Ali Alvarez Andersen Bauer Becker Bianchi Brown Campbell Chen Costa Cruz Dubois Dunn "
    "Evans Fischer Fernandez Ferrari Garcia Gomez Green Gupta Hall Hansen Hernandez Hoffmann Ito Jansen Johnson "
    "Kaur Khan Kim Klein Kowalski Kumar Lambert Larsen Lee Lopez Martin Martinez Meyer Moreau Muller Murphy "
    "Nakamura Nguyen Novak Nowak Okafor Olsen Ortiz Park Patel Perez Petrov Popescu Ramos Reyes Ricci Rossi "
    "Russo Sanchez Santos Sato Schmidt Schneider Silva Singh Smith Suzuki Tanaka Taylor Torres Vargas Wagner "
    "Walker Wang Weber Williams Wilson Wong Yamamoto Yilmaz Young Zhang Zimmermann"
).split()
CITIES = (
    "Amsterdam Athens Austin Barcelona Berlin Bogota Boston Brussels Cairo Chicago Copenhagen Dublin Edinburgh "
    "Florence Geneva Hamburg Helsinki Istanbul Lagos Lima Lisbon London Lyon Madrid Manchester Melbourne Milan "
    "Montreal Mumbai Munich Nairobi Naples Oslo Paris Porto Prague Rome Seoul Seville Stockholm Sydney Tokyo "
    "Toronto Valencia Vienna Warsaw Zurich"
).split()
STREETS = "Oak Maple Cedar Elm Pine Lake Hill Park River Main Church Market High Station Mill Bridge".split()


class NamePool:
    """Pre-built ``First Last`` names and ``first.last`` e-mail local parts (index-aligned)."""

    def __init__(self) -> None:
        pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
        self.names = [f"{f} {last}" for f, last in pairs]
        self.locals = [f"{f}.{last}".lower() for f, last in pairs]
        self.size = len(pairs)


def fake_hashes(r: random.Random, count: int = 256) -> list[str]:
    """bcrypt-shaped strings (60 chars); real hashing would cost ~0.2 s per row."""
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return ["$2b$12$" + "".join(r.choice(alphabet) for _ in range(53)) for _ in range(count)]


def phones(r: random.Random, count: int = 4096) -> list[str]:
    """A pool of phone numbers."""
    return [f"+1-{r.randrange(200, 999)}-{r.randrange(200, 999)}-{r.randrange(1000, 9999)}" for _ in range(count)]

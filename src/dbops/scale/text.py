"""Vectorised text columns: per-row strings built from pooled pieces, constants and numbers.

A ``Text`` is n strings, each the concatenation of the same sequence of
segments: a pooled string chosen per row (``Text.pool``), a constant, or an
integer's decimal digits (``Text.digits``). Nothing is built per row in
Python: the encoder scatters the segments' bytes straight into the COPY
buffer.

>>> t = Text.pool(Pool(["ada", "bo"]), np.array([1, 0])) + "." + Text.digits(np.array([7, 1234]))
>>> t.to_list()
['bo.7', 'ada.1234']
>>> Text.from_list(["x", None, "yz"]).to_list()
['x', None, 'yz']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_POWERS = np.array([10**k for k in range(1, 19)], dtype=np.int64)


def scatter_fixed(buf: np.ndarray, at: np.ndarray, mat: np.ndarray) -> None:
    """``buf[at[i] : at[i] + w] = mat[i]`` for every row i."""
    if len(at) == 0:
        return
    width = mat.shape[1]
    buf[at[:, None] + np.arange(width)] = mat


def scatter_var(buf: np.ndarray, at: np.ndarray, flat: np.ndarray, start: np.ndarray, length: np.ndarray) -> None:
    """``buf[at[i] : at[i] + length[i]] = flat[start[i] : start[i] + length[i]]`` for every row i."""
    total = int(length.sum())
    if total == 0:
        return
    first = np.cumsum(length) - length
    rel = np.arange(total) - np.repeat(first, length)
    buf[np.repeat(at, length) + rel] = flat[np.repeat(start, length) + rel]


class Pool:
    """Strings encoded once (UTF-8) into one flat byte array."""

    def __init__(self, strings: Sequence[str]) -> None:
        encoded = [s.encode() for s in strings]
        self.strings = list(strings)
        self.lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.flat = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
        self.uniform = len(set(self.lengths.tolist())) == 1 and self.lengths[0] > 0
        if self.uniform:
            self.matrix = self.flat[: int(self.lengths.sum())].reshape(len(encoded), int(self.lengths[0]))

    def __len__(self) -> int:
        return len(self.strings)


class Text:
    """n strings as segments (see the module docstring); ``null`` marks NULL rows."""

    def __init__(self, n: int, segments: list[tuple], lengths: np.ndarray, null: np.ndarray | None = None) -> None:
        self.n = n
        self.segments = segments
        self.lengths = lengths
        self.null = null

    @classmethod
    def pool(cls, pool: Pool, index: np.ndarray) -> Text:
        """Row i is ``pool.strings[index[i]]``."""
        index = np.asarray(index, dtype=np.int64)
        if pool.uniform:
            return cls(len(index), [("fixed", pool.matrix[index])], np.full(len(index), pool.matrix.shape[1]))
        lengths = pool.lengths[index]
        return cls(len(index), [("var", pool.flat, pool.offsets[index], lengths)], lengths.copy())

    @classmethod
    def const(cls, value: str, n: int) -> Text:
        data = np.frombuffer(value.encode(), dtype=np.uint8)
        return cls(n, [("fixed", np.broadcast_to(data, (n, len(data))))], np.full(n, len(data), dtype=np.int64))

    @classmethod
    def digits(cls, values: np.ndarray) -> Text:
        """The decimal digits of non-negative integers, without padding."""
        values = np.asarray(values, dtype=np.int64)
        n = len(values)
        count = np.searchsorted(_POWERS, values, side="right") + 1
        width = int(count.max()) if n else 1
        scale = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        mat = ((values[:, None] // scale) % 10 + 48).astype(np.uint8)
        start = np.arange(n, dtype=np.int64) * width + (width - count)
        return cls(n, [("var", mat.ravel(), start, count)], count.astype(np.int64))

    @classmethod
    def from_list(cls, values: Sequence[str | None]) -> Text:
        """From Python strings (small tables); None is NULL."""
        distinct = sorted({v for v in values if v is not None})
        pool = Pool(distinct or [""])
        where = {v: i for i, v in enumerate(distinct)}
        index = np.array([where.get(v, 0) if v is not None else 0 for v in values], dtype=np.int64)
        null = np.array([v is None for v in values], dtype=bool)
        text = cls.pool(pool, index)
        return text.with_nulls(null) if null.any() else text

    def __add__(self, other: Text | str) -> Text:
        if isinstance(other, str):
            other = Text.const(other, self.n)
        null = self.null if other.null is None else (other.null if self.null is None else self.null | other.null)
        out = Text(self.n, self.segments + other.segments, self.lengths + other.lengths)
        return out.with_nulls(null) if null is not None else out

    def with_nulls(self, null: np.ndarray) -> Text:
        null = np.asarray(null, dtype=bool)
        if self.null is not None:
            null = null | self.null
        lengths = np.where(null, 0, self.lengths) if null.any() else self.lengths
        return Text(self.n, self.segments, lengths, null if null.any() else None)

    def take(self, rows: np.ndarray) -> Text:
        """The strings of ``rows`` (an index array), in that order.

        >>> Text.from_list(["a", None, "bc"]).take(np.array([2, 1])).to_list()
        ['bc', None]
        """
        segments: list[tuple[Any, ...]] = []
        for segment in self.segments:
            if segment[0] == "fixed":
                segments.append(("fixed", segment[1][rows]))
            else:
                _, flat, start, length = segment
                segments.append(("var", flat, start[rows], length[rows]))
        return Text(len(rows), segments, self.lengths[rows], None if self.null is None else self.null[rows])

    def write(self, buf: np.ndarray, at: np.ndarray) -> None:
        """Scatter the rows' bytes into ``buf`` from offsets ``at`` (NULL rows are skipped)."""
        rows = None if self.null is None else ~self.null
        at = at if rows is None else at[rows]
        for segment in self.segments:
            if segment[0] == "fixed":
                mat = segment[1] if rows is None else segment[1][rows]
                scatter_fixed(buf, at, mat)
                at = at + mat.shape[1]
            else:
                _, flat, start, length = segment
                if rows is not None:
                    start, length = start[rows], length[rows]
                scatter_var(buf, at, flat, start, length)
                at = at + length

    def to_list(self) -> list[str | None]:
        """The strings (for tests and debugging; slow)."""
        buf = np.zeros(int(self.lengths.sum()) + 1, dtype=np.uint8)
        ends = np.cumsum(self.lengths)
        self.write(buf, ends - self.lengths)
        data = buf.tobytes()
        out: list[str | None] = []
        for i, (end, length) in enumerate(zip(ends.tolist(), self.lengths.tolist(), strict=True)):
            out.append(None if self.null is not None and self.null[i] else data[end - length:end].decode())
        return out

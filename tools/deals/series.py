"""Raw Keepa history arrays as numpy vectors, plus Keepa time conversion.

Why not `keepa.parse_csv`: it builds a pandas DataFrame for every one of the 36 series and
converts every timestamp to `datetime`, which alone costs milliseconds per product (the 500
products/s target leaves 2 ms for everything), and it adds a shipping of -1 ("unknown") to the
price. We only need a handful of series, as integer cents over integer Keepa minutes, so we read
the flat `[t, v, t, v, ...]` arrays straight into numpy. The slot numbers and Keepa time come
from tools/keepa/conventions.py, their one source of truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.keepa import conventions as kc

CSV_INDEX = kc.CSV_INDEX
AMAZON = kc.AMAZON
NEW = kc.NEW
USED = kc.USED
SALES = kc.SALES
COUNT_NEW = kc.COUNT_NEW
COUNT_USED = kc.COUNT_USED
USED_LIKE_NEW = kc.USED_NEW_SHIPPING
USED_VERY_GOOD = kc.USED_VERY_GOOD_SHIPPING
USED_GOOD = kc.USED_GOOD_SHIPPING
USED_ACCEPTABLE = kc.USED_ACCEPTABLE_SHIPPING

KEEPA_EPOCH_OFFSET_MIN = kc.KEEPA_EPOCH_OFFSET_MIN
MINUTES_PER_DAY = kc.MINUTES_PER_DAY
keepa_minutes_to_unix_ms = kc.keepa_minutes_to_unix_ms
keepa_minutes_to_datetime = kc.keepa_minutes_to_datetime
datetime_to_keepa_minutes = kc.datetime_to_keepa_minutes
keepa_minutes_to_month = kc.keepa_minutes_to_month

_EMPTY = np.empty(0, dtype=np.int64)


class Histories:
    """The csv series of one product, each converted to numpy once (several metrics read the
    same series; list -> array conversion is the largest fixed cost per product)."""

    __slots__ = ("_cache", "csv")

    def __init__(self, csv: list[Any] | None) -> None:
        self.csv = csv
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def pairs(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        got = self._cache.get(idx)
        if got is None:
            got = self._cache[idx] = pairs(self.csv, idx)
        return got


def pairs(csv: list[Any] | Histories | None, idx: int) -> tuple[np.ndarray, np.ndarray]:
    """`[t0, v0, t1, v1, ...]` -> (times, values) int64 arrays; empty when the series is null."""
    if isinstance(csv, Histories):
        return csv.pairs(idx)
    if not csv or idx >= len(csv) or not csv[idx]:
        return _EMPTY, _EMPTY
    arr = np.asarray(csv[idx], dtype=np.int64)
    n = arr.size // 2
    arr = arr[: n * 2].reshape(n, 2)
    return arr[:, 0], arr[:, 1]


def value_at(
    times: np.ndarray, values: np.ndarray, when: np.ndarray, *, strictly_before: bool = False
) -> np.ndarray:
    """Value in effect at each `when` (last point at or before it), -1 where there is none."""
    if times.size == 0:
        return np.full(np.shape(when), -1, dtype=np.int64)
    k = np.searchsorted(times, when, side="left" if strictly_before else "right") - 1
    out = values[np.clip(k, 0, None)]
    return np.where(k >= 0, out, -1)


def stat_value(stats: dict[str, Any] | None, key: str, idx: int) -> int | None:
    """`stats[key][idx]` as an int, None for absent, -1 (no offer) or -2 (unknown)."""
    if not stats:
        return None
    arr = stats.get(key)
    if not isinstance(arr, list) or idx >= len(arr):
        return None
    v = arr[idx]
    if v is None or not isinstance(v, int) or v < 0:
        return None
    return v


def stat_scalar(stats: dict[str, Any] | None, key: str) -> int | None:
    """A scalar stats field (e.g. `salesRankDrops30`), None when absent or negative (unknown)."""
    if not stats:
        return None
    v = stats.get(key)
    if v is None or isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        return None
    return int(v)


def chart_series(
    csv: list[Any] | Histories | None, idx: int, since_minutes: int, *, cents: bool = True
) -> dict[str, list[Any]] | None:
    """A chart-ready `{"t": [unix_ms...], "v": [...]}` of one series since a Keepa minute.

    Gaps (-1 no offer, -2 unknown) become None so a chart draws a break, not a zero price.
    The point in effect at `since_minutes` is kept so the line starts at the window's edge.
    """
    t, v = pairs(csv, idx)
    if t.size == 0:
        return None
    start = max(int(np.searchsorted(t, since_minutes, side="right")) - 1, 0)
    t, v = t[start:], v[start:]
    ms = keepa_minutes_to_unix_ms(t).tolist()
    vals = (v / 100.0).tolist() if cents else v.tolist()
    return {"t": ms, "v": [x if x >= 0 else None for x in vals]}

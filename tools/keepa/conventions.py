"""Keepa's data conventions, in one place: its time (minutes since 2011-01-01 UTC) and the
slots of a product's `csv` histories (docs/domain.md "Time, prices and histories").

The client, the deal analytics, the calibration statistics and the sandbox all read these;
the slot names and numbers are the keepa package's (`keepa.csv_indices`), which
tests/unit/test_keepa_conventions.py checks one by one. Only numpy is imported, so the sandbox
and the analytics do not load the keepa package (and pandas) for a few integers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

# ---- time ---------------------------------------------------------------------------------

KEEPA_EPOCH_OFFSET_MIN = 21_564_000  # Unix minutes at 2011-01-01 00:00 UTC
KEEPA_EPOCH = np.datetime64("2011-01-01T00:00", "m")
MINUTES_PER_DAY = 24 * 60


def to_keepa_minutes(unix_seconds: float) -> int:
    return int(unix_seconds // 60) - KEEPA_EPOCH_OFFSET_MIN


def keepa_minutes_to_unix(minutes: int) -> float:
    """Keepa minutes -> Unix seconds."""
    return float((minutes + KEEPA_EPOCH_OFFSET_MIN) * 60)


def keepa_minutes_to_unix_ms(minutes: int | np.ndarray) -> Any:
    """Keepa minutes -> Unix milliseconds (scalars and arrays):
    unix_ms = (keepa_minutes + 21564000) * 60000."""
    return (np.asarray(minutes, dtype=np.int64) + KEEPA_EPOCH_OFFSET_MIN) * 60_000


def keepa_minutes_to_datetime(minutes: int) -> datetime:
    return datetime.fromtimestamp((int(minutes) + KEEPA_EPOCH_OFFSET_MIN) * 60, tz=UTC)


def datetime_to_keepa_minutes(when: datetime) -> int:
    """A naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() // 60) - KEEPA_EPOCH_OFFSET_MIN


def keepa_minutes_to_month(minutes: np.ndarray) -> np.ndarray:
    """Calendar month (1..12, UTC) of each Keepa-minute timestamp, vectorised."""
    unix_min = np.asarray(minutes, dtype=np.int64) + KEEPA_EPOCH_OFFSET_MIN
    months = unix_min.astype("datetime64[m]").astype("datetime64[M]").astype(np.int64)
    return months % 12 + 1


# ---- csv history slots ----------------------------------------------------------------------

# slot i of `csv` (and of stats arrays such as `current`) holds CSV_NAMES[i]
CSV_NAMES: tuple[str, ...] = (
    "AMAZON",
    "NEW",
    "USED",
    "SALES",
    "LISTPRICE",
    "COLLECTIBLE",
    "REFURBISHED",
    "NEW_FBM_SHIPPING",
    "LIGHTNING_DEAL",
    "WAREHOUSE",
    "NEW_FBA",
    "COUNT_NEW",
    "COUNT_USED",
    "COUNT_REFURBISHED",
    "COUNT_COLLECTIBLE",
    "EXTRA_INFO_UPDATES",
    "RATING",
    "COUNT_REVIEWS",
    "BUY_BOX_SHIPPING",
    "USED_NEW_SHIPPING",
    "USED_VERY_GOOD_SHIPPING",
    "USED_GOOD_SHIPPING",
    "USED_ACCEPTABLE_SHIPPING",
    "COLLECTIBLE_NEW_SHIPPING",
    "COLLECTIBLE_VERY_GOOD_SHIPPING",
    "COLLECTIBLE_GOOD_SHIPPING",
    "COLLECTIBLE_ACCEPTABLE_SHIPPING",
    "REFURBISHED_SHIPPING",
    "EBAY_NEW_SHIPPING",
    "EBAY_USED_SHIPPING",
    "TRADE_IN",
    "RENT",
    "BUY_BOX_USED_SHIPPING",
    "PRIME_EXCL",
    "COUNT_NEW_FBA",
    "COUNT_NEW_FBM",
)
CSV_SLOTS = len(CSV_NAMES)  # 36
CSV_INDEX: dict[str, int] = {name: i for i, name in enumerate(CSV_NAMES)}
# *_SHIPPING series are [time, price, shipping] triplets; the others [time, value] pairs
TRIPLET_SLOTS = frozenset(i for i, name in enumerate(CSV_NAMES) if name.endswith("_SHIPPING"))
# series of prices in cents (out-of-stock shares are reported for these): all but the counts,
# the sales rank, the rating (x10) and the update counter
PRICE_SLOTS = frozenset(
    i
    for i, name in enumerate(CSV_NAMES)
    if not name.startswith("COUNT_") and name not in ("SALES", "RATING", "EXTRA_INFO_UPDATES")
)

AMAZON = CSV_INDEX["AMAZON"]
NEW = CSV_INDEX["NEW"]
USED = CSV_INDEX["USED"]
SALES = CSV_INDEX["SALES"]  # sales rank
LISTPRICE = CSV_INDEX["LISTPRICE"]
NEW_FBA = CSV_INDEX["NEW_FBA"]
COUNT_NEW = CSV_INDEX["COUNT_NEW"]
COUNT_USED = CSV_INDEX["COUNT_USED"]
RATING = CSV_INDEX["RATING"]
COUNT_REVIEWS = CSV_INDEX["COUNT_REVIEWS"]
BUY_BOX_SHIPPING = CSV_INDEX["BUY_BOX_SHIPPING"]
USED_NEW_SHIPPING = CSV_INDEX["USED_NEW_SHIPPING"]  # used, like new
USED_VERY_GOOD_SHIPPING = CSV_INDEX["USED_VERY_GOOD_SHIPPING"]
USED_GOOD_SHIPPING = CSV_INDEX["USED_GOOD_SHIPPING"]
USED_ACCEPTABLE_SHIPPING = CSV_INDEX["USED_ACCEPTABLE_SHIPPING"]
BUY_BOX_USED_SHIPPING = CSV_INDEX["BUY_BOX_USED_SHIPPING"]

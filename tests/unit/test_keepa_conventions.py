"""tools.keepa.conventions agrees with Keepa: the keepa package's csv slots, Keepa's clock."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import keepa
import numpy as np

from tools.keepa import conventions as kc


def test_csv_slots_are_the_keepa_packages() -> None:
    assert [(i, name) for i, name, _ in keepa.csv_indices] == list(enumerate(kc.CSV_NAMES))
    assert kc.CSV_SLOTS == len(keepa.csv_indices) == 36
    # the pairs/triplets layout keepa.parse_csv reads: *_SHIPPING series carry a shipping cost
    assert {i for i, name, _ in keepa.csv_indices if "SHIPPING" in name} == kc.TRIPLET_SLOTS
    # prices in cents: the package's dollar series, except RATING (stars x 10)
    dollars = {i for i, _, is_float in keepa.csv_indices if is_float}
    assert dollars - {kc.RATING} == kc.PRICE_SLOTS
    named = {
        "AMAZON": 0,
        "NEW": 1,
        "USED": 2,
        "SALES": 3,
        "LISTPRICE": 4,
        "NEW_FBA": 10,
        "COUNT_NEW": 11,
        "COUNT_USED": 12,
        "RATING": 16,
        "COUNT_REVIEWS": 17,
        "BUY_BOX_SHIPPING": 18,
        "USED_NEW_SHIPPING": 19,
        "USED_VERY_GOOD_SHIPPING": 20,
        "USED_GOOD_SHIPPING": 21,
        "USED_ACCEPTABLE_SHIPPING": 22,
        "BUY_BOX_USED_SHIPPING": 32,
    }  # docs/domain.md "Time, prices and histories"
    assert {name: getattr(kc, name) for name in named} == named


def test_keepa_time_round_trips_and_matches_the_keepa_package() -> None:
    when = datetime(2026, 3, 2, 13, 45, tzinfo=UTC)
    minutes = kc.datetime_to_keepa_minutes(when)
    assert kc.keepa_minutes_to_datetime(minutes) == when
    assert kc.to_keepa_minutes(when.timestamp()) == minutes
    assert kc.keepa_minutes_to_unix(minutes) == when.timestamp()
    assert kc.keepa_minutes_to_unix_ms(minutes) == (minutes + 21_564_000) * 60_000
    assert kc.datetime_to_keepa_minutes(when.replace(tzinfo=None)) == minutes  # naive = UTC
    ref = keepa.keepa_minutes_to_time([minutes], to_datetime=False)[0]
    assert np.datetime64(ref, "m") == kc.KEEPA_EPOCH + np.timedelta64(minutes, "m")
    assert kc.keepa_minutes_to_month(np.array([minutes, 0])).tolist() == [3, 1]


def test_the_conventions_load_without_the_client_stack() -> None:
    """The deal analytics and the sandbox read these; they must not pay for the HTTP client,
    Redis and the keepa package (pandas) to get a few integers."""
    code = (
        "import sys, tools.keepa.conventions, tools.deals.series, tools.keepa.costs; "
        "print(sorted(m for m in ('keepa', 'pandas', 'httpx', 'redis') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"

"""The sandbox's batch history generator: deterministic per product whatever the batch or the
horizon, and Keepa-like (change-only series, a sale shows as offer-count then rank drop)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.sandbox.keepa.helpers import known_product
from tools.clock import SimClock
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import (
    COUNT_USED,
    DAY,
    N_SLOTS,
    SALES,
    SLOT,
    Batch,
    cumulative_season,
    generate,
)

START = 1_780_000_000.0


@pytest.fixture(scope="module")
def setup() -> tuple:
    market = SandboxMarket(n_products=3000, seed=11, clock=SimClock(START))
    return market.catalog, market.t0, market.month_of_day, market.start_day, market


def _rows(b: Batch, p: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    stop = np.append(b.start[1:], len(b.t))
    return [
        (b.t[lo:hi], b.raw[lo:hi], b.ship[lo:hi])
        for lo, hi in zip(
            b.start[p * N_SLOTS : (p + 1) * N_SLOTS],
            stop[p * N_SLOTS : (p + 1) * N_SLOTS],
            strict=True,
        )
    ]


def test_a_product_is_the_same_in_any_batch(setup: tuple) -> None:
    cat, t0, months, start_day, _ = setup
    season = cumulative_season(months)
    horizon = t0 + 760 * DAY
    ids = [5, 1400, 77, 2999, 640]
    together = generate(cat, ids, t0, horizon, months, start_day, season)
    for p, i in enumerate(ids):
        alone = generate(cat, [i], t0, horizon, months, start_day, season)
        for (t1, v1, s1), (t2, v2, s2) in zip(_rows(together, p), _rows(alone, 0), strict=True):
            assert np.array_equal(t1, t2) and np.array_equal(v1, v2) and np.array_equal(s1, s2)
        assert np.array_equal(together.sale_t[p], alone.sale_t[0])
        assert together.used_ship[p] == alone.used_ship[0]


def test_a_later_horizon_only_appends_points(setup: tuple) -> None:
    cat, t0, months, start_day, _ = setup
    short = generate(cat, list(range(40)), t0, t0 + 300 * DAY, months, start_day)
    long = generate(cat, list(range(40)), t0, t0 + 1100 * DAY, months, start_day)
    for p in range(40):
        for (t1, v1, s1), (t2, v2, s2) in zip(_rows(short, p), _rows(long, p), strict=True):
            n = len(t1)
            assert np.array_equal(t1, t2[:n]) and np.array_equal(v1, v2[:n])
            assert np.array_equal(s1, s2[:n])
            assert len(t2) == n or t2[n] >= t0 + 300 * DAY  # the rest is after the horizon
        assert np.array_equal(short.sale_t[p], long.sale_t[p][: len(short.sale_t[p])])


def test_change_points_only_and_sales_show_like_keepa(setup: tuple) -> None:
    cat, t0, months, start_day, _ = setup
    b = generate(cat, list(range(300)), t0, t0 + 730 * DAY, months, start_day)
    shown = sales = 0
    for p in range(300):
        rows = _rows(b, p)
        for t, v, s in rows:
            assert (np.diff(t) > 0).all()  # one point per minute, in time order
            same = (v[1:] == v[:-1]) & (s[1:] == s[:-1])
            assert not same.any()  # Keepa stores changes only
        ct, cv, _ = rows[SLOT[COUNT_USED]]
        rt, rv, _ = rows[SLOT[SALES]]
        for sale in b.sale_t[p][-20:]:
            k = int(np.searchsorted(ct, sale, side="right")) - 1
            j = int(np.searchsorted(rt, sale, side="right"))
            sales += 1
            # the offer count drops at the sale, the rank drops within 8 hours after it
            shown += bool(
                ct[k] == sale
                and cv[k] < cv[k - 1]
                and j < len(rt)
                and rt[j] - sale <= 8 * 60
                and rv[j] < rv[j - 1]
            )
    assert shown / sales > 0.8, (shown, sales)  # the rest: sales minutes apart share a drop


def test_market_time_continues_the_same_timeline(setup: tuple) -> None:
    market = SandboxMarket(n_products=300, seed=11, clock=SimClock(START))
    asins = market.asins()[:50]
    before = [known_product(market, a, update=0)["csv"] for a in asins]
    market.advance(70 * DAY)  # past the first generation horizon: histories are extended
    after = [known_product(market, a, update=0)["csv"] for a in asins]
    grew = 0
    for b_csv, a_csv in zip(before, after, strict=True):
        for x, y in zip(b_csv, a_csv, strict=True):
            if x is not None:
                assert y[: len(x)] == x
                grew += len(y) > len(x)
    assert grew > 50

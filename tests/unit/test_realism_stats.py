"""The calibration statistics follow the README's definitions to the letter (hand-computed on
small hand-built answers), the three requests are the README's, and the comparison applies the
tolerances it states. bench/market_realism.py is only as honest as these definitions."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.keepa.conventions import KEEPA_EPOCH_OFFSET_MIN
from tools.sandbox.calibration import (
    compare,
    deal_stats,
    live_flags,
    load_calibration,
    offer_stats,
    product_rank_drops,
    scan_rows,
    strata,
)
from tools.sandbox.calibration.compare import close, compare_one

BOOKS, TOYS = 283155, 165793011
M0 = 7_000_000  # Keepa minute of page 0; page 1 is two minutes later
M1 = M0 + 2


def _ts(minute: int) -> int:
    """An envelope timestamp (ms) inside `minute` (30 s past it: the minute is floored)."""
    return (minute + KEEPA_EPOCH_OFFSET_MIN) * 60_000 + 30_000


def _row(
    asin: str,
    *,
    used: int,
    rank: int,
    count: int = -1,
    amazon: int = -1,
    avg: tuple[int, int, int, int] = (-1, -1, -1, -1),
    dp: tuple[int, ...] = (0,) * 4,
    delta: tuple[int, ...] = (0,) * 4,
    created: int = 0,
    updated: int = M0,
    drops: tuple[int, int] = (-1, -1),
    landed: tuple[int, ...] = (-1,) * 4,
    root: int = BOOKS,
) -> dict[str, Any]:
    """A /deal/ row with 23-wide arrays (Keepa's are 34 wide: every index used is < 23)."""
    current = [-1] * 23
    current[0], current[2], current[3], current[12] = amazon, used, rank, count
    current[19:23] = landed

    def windows(vals: tuple[int, ...], other: int) -> list[list[int]]:
        out = []
        for v in vals:
            w = [other] * 23
            w[2] = v
            out.append(w)
        return out

    return {
        "asin": asin,
        "rootCat": root,
        "current": current,
        "avg": windows(avg, -1),
        "delta": windows(delta, 0),
        "deltaPercent": windows(dp, 0),
        "creationDate": created,
        "lastUpdate": updated,
        "salesRankDrops30": drops[0],
        "salesRankDrops90": drops[1],
    }


def _answer(minute: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"deals": {"dr": rows}, "timestamp": _ts(minute), "tokensLeft": 100}


# One scan of two pages. A is on both (page 1's row counts), T is a toy (not a Book).
A_OLD = _row(
    "A",
    used=9999,
    rank=1,
    count=40,
    amazon=5000,
    avg=(1, 1, 1, 1),
    dp=(-50,) * 4,
    created=M0 - 10,
    drops=(99, 99),
)
A = _row(
    "A",
    used=2000,
    rank=150_000,
    count=3,
    avg=(2100, 2500, 3000, 5000),
    dp=(5, 20, 33, 60),
    delta=(100, 500, 1000, 3000),
    created=M1 - 600,
    updated=M1 - 60,
    drops=(4, 10),
    landed=(-1, 3199, 3100, -1),
)
C = _row(
    "C",
    used=1000,
    rank=150_000,
    count=0,
    amazon=1500,
    avg=(-1, 1100, 900, 1000),
    dp=(0, 9, -11, 0),
    delta=(0, 100, -100, 0),
    created=0,
    updated=M0 - 120,
)
D = _row(
    "D",
    used=5000,
    rank=2_000_000,
    count=12,
    avg=(5000, 5200, 6000, 10000),
    dp=(0, 4, 17, 50),
    delta=(0, 200, 1000, 5000),
    created=M0 - 3000,
    updated=M0 - 30,
    drops=(1, 2),
    landed=(4500, -1, -1, 4000),
)
F = _row("F", used=-1, rank=-1, count=-1, created=M1 - 60, updated=M1 - 60, drops=(0, 0))
T = _row("T", used=100, rank=5, count=99, amazon=100, avg=(200,) * 4, dp=(50,) * 4, root=TOYS)
SCAN = [_answer(M0, [A_OLD, C, D, T]), _answer(M1, [A, F])]


def _q(n: int, *ps: float) -> dict[str, Any]:
    return {"n": n, **{f"p{q}": p for q, p in zip((10, 25, 50, 75, 90), ps, strict=True)}}


def test_scan_rows_keep_books_once_each_with_the_latest_row_and_its_page_minute() -> None:
    rows = scan_rows(reversed(SCAN))  # pages are ordered by their envelope timestamp
    by_asin = {r["asin"]: (r, m) for r, m in rows}
    assert sorted(by_asin) == ["A", "C", "D", "F"]
    assert by_asin["A"] == (A, M1)
    assert by_asin["C"][1] == M0


def test_deal_statistics_match_the_readme_definitions_by_hand() -> None:
    s = deal_stats(scan_rows(SCAN))
    assert (s["n_deals"], s["n_asins"]) == (4, 4)
    # used prices of A, C, D ($20, $10, $50); F has none
    assert s["used_price_usd"] == _q(3, 12.0, 15.0, 20.0, 35.0, 44.0)
    assert s["sales_rank"] == _q(3, 150_000, 150_000, 150_000, 1_075_000, 1_630_000)
    assert s["no_rank_share"] == {"n": 4, "pct": 25.0}  # F
    assert s["rank_mode_share"] == {"n": 3, "pct": 66.67}  # A and C at 150,000
    # day: C has no day average, F no used price -> A (5) and D (0)
    assert s["dp_day"] == _q(2, 0.5, 1.25, 2.5, 3.75, 4.5)
    assert s["delta_usd_day"] == _q(2, 0.1, 0.25, 0.5, 0.75, 0.9)
    assert s["dp_week"] == _q(3, 5.0, 6.5, 9.0, 14.5, 17.8)
    assert s["rise_share_week"] == {"n": 3, "pct": 0.0}
    assert s["dp_month"]["p50"] == 17.0
    assert s["rise_share_month"] == {"n": 3, "pct": 33.33}  # C's -11
    assert s["rise_share_90d"] == {"n": 3, "pct": 0.0}  # C's 0 is not a rise
    assert s["delta_usd_90d"]["p50"] == 30.0
    # ages from the row's own page minute; C has no creationDate
    assert s["deal_age_h"] == _q(3, 2.8, 5.5, 10.0, 30.0, 42.0)
    assert s["update_age_h"] == _q(4, 0.65, 0.88, 1.0, 1.25, 1.7)
    assert s["used_offer_count"] == _q(3, 0.6, 1.5, 3.0, 7.5, 10.2)
    assert s["rank_drops30"]["n"] == 3 and s["rank_drops30"]["p50"] == 1.0  # C's -1 left out
    assert s["rank_drops90"]["p50"] == 2.0
    assert s["no_drops_share"] == {"n": 4, "pct": 25.0}
    assert s["amazon_offer_share"] == {"n": 4, "pct": 25.0}
    bands = s["rank_bands"]
    assert bands["100k_300k"] == {
        "share": {"n": 3, "pct": 66.67},
        "used_offer_count_median": {"n": 2, "p50": 1.5},
        "rank_drops30_median": {"n": 1, "p50": 4.0},  # C has no drops
        "rank_drops90_median": {"n": 1, "p50": 10.0},
    }
    assert bands["1m_3m"]["share"] == {"n": 3, "pct": 33.33}
    assert bands["1m_3m"]["used_offer_count_median"] == {"n": 1, "p50": 12.0}
    assert bands["lt_100k"]["share"]["pct"] == 0.0
    assert bands["lt_100k"]["rank_drops90_median"] == {"n": 0, "p50": None}


def test_profit_buys_at_the_cheapest_landed_used_price_else_used_plus_399() -> None:
    s = deal_stats(scan_rows(SCAN))
    # A: L 50, B min(31.99, 31.00) = 31.00 -> 50 - (7.50 + 1.80) - 3.99 - 31.00 = 5.71
    # C: L 10, no landed price: B (1000 + 399) / 100 -> 10 - 3.30 - 3.99 - 13.99 = -11.28
    # D: L 100, B min(45.00, 40.00) = 40.00 -> 100 - 16.80 - 3.99 - 40.00 = 39.21
    assert s["profit_usd"]["n"] == 3
    assert s["profit_usd"]["p50"] == 5.71
    assert s["profit_usd"]["p10"] == pytest.approx(-11.28 + 0.2 * (5.71 + 11.28), abs=0.01)
    assert s["profit_gt0_share"] == {"n": 3, "pct": 66.67}
    assert s["profit_gt10_share"] == {"n": 3, "pct": 33.33}


def _offer(
    cond: int,
    fba: bool,
    seen: int,
    csv: list[int],
    scam: bool | None = None,
) -> dict[str, Any]:
    o = {"condition": cond, "isFBA": fba, "lastSeen": seen, "offerCSV": csv}
    if scam is not None:
        o["isScam"] = scam
    return o


# P1: liveOffersOrder decides (o1 has the newest lastSeen but is not listed);
# P2: no liveOffersOrder -> lastSeen >= stats.lastOffersUpdate (500);
# P3: a bare list -> lastSeen equal to the newest (300); P4: no offers (not counted).
P1 = {
    "liveOffersOrder": [2, 0],
    "offers": [
        _offer(4, False, 100, [1, 1500, 0, 2, 1400, 0]),
        _offer(3, False, 200, [1, 1600, 399], scam=True),
        _offer(1, True, 50, [1, 3000, 0, 2, 2900, 0, 3, 2800, 0]),
    ],
}
P2 = {
    "stats": {
        "lastOffersUpdate": 500,
        "current": [-1, -1, -1, 250_000],
        "salesRankDrops30": 3,
        "salesRankDrops90": 7,
    },
    "offers": [
        _offer(2, True, 500, [1, 2000, -1]),
        _offer(5, False, 400, [1, 800, 399]),
        _offer(5, False, 600, [1, 900, 499, 2, 850, 549]),
        _offer(3, False, 501, [1, 1000, -1]),
    ],
}
P3 = {
    "offers": [
        _offer(4, False, 300, [1, 700, 399]),
        _offer(4, True, 300, [1, 720, 0, 2, 710, 0]),
        _offer(3, False, 299, [1, 650, 399]),
    ]
}
P4 = {
    "offers": [],
    "stats": {"current": [-1, -1, -1, 50_000], "salesRankDrops30": 20, "salesRankDrops90": -1},
}
P5 = {"stats": {"current": [-1, -1, -1, 260_000], "salesRankDrops30": 5, "salesRankDrops90": 9}}


def test_live_offers_by_live_order_then_last_offers_update_then_newest_last_seen() -> None:
    assert live_flags(P1) == [True, False, True]
    assert live_flags(P2) == [True, False, True, True]
    assert live_flags(P3) == [True, True, False]
    assert live_flags({"liveOffersOrder": [], "offers": P3["offers"]}) == [False] * 3


def test_offer_statistics_match_the_readme_definitions_by_hand() -> None:
    s = offer_stats([P1, P2, P3, P4])
    assert (s["n_products"], s["n_offers"], s["n_live"]) == (3, 10, 7)
    assert s["live_share_pooled"] == {"n": 10, "pct": 70.0}
    assert s["live_share_per_product"] == _q(3, 66.67, 66.67, 66.67, 70.83, 73.33)
    assert s["offers_per_product"]["p50"] == 3.0
    assert s["offer_points_all"] == _q(10, 1.0, 1.0, 1.0, 2.0, 2.1)
    assert s["offer_points_live"] == _q(7, 1.0, 1.0, 2.0, 2.0, 2.4)
    assert s["scam_share"] == {"n": 10, "pct": 10.0}
    assert s["used_share_of_live"] == {"n": 7, "pct": 85.71}  # P1's live new offer is not
    assert s["cond_like_new_share"] == {"n": 6, "pct": 16.67}
    assert s["cond_very_good_share"] == {"n": 6, "pct": 16.67}
    assert s["cond_good_share"] == {"n": 6, "pct": 50.0}
    assert s["cond_acceptable_share"] == {"n": 6, "pct": 16.67}
    assert s["used_fba_share"] == {"n": 6, "pct": 33.33}
    # live used FBM: P1 o0 ships free, P2 o2 $5.49 (its last triplet), P2 o3 unknown (-1),
    # P3 o0 $3.99: the free share is over the 3 with a known shipping
    assert s["used_fbm_free_shipping_share"] == {"n": 3, "pct": 33.33}
    assert s["used_fbm_paid_shipping_usd"] == _q(2, 4.14, 4.37, 4.74, 5.12, 5.34)


def test_product_rank_drops_are_medians_by_band_of_the_stats_rank() -> None:
    d = product_rank_drops([P1, P2, P3, P4, P5])
    assert d["100k_300k"] == {"n": 2, "rank_drops30_median": 4.0, "rank_drops90_median": 8.0}
    assert d["lt_100k"] == {"n": 1, "rank_drops30_median": 20.0, "rank_drops90_median": None}
    assert d["gt_3m"] == {"n": 0, "rank_drops30_median": None, "rank_drops90_median": None}


README_SELECTIONS = {  # the README's table, typed from it
    "broad": {"domainId": 1, "priceTypes": [2]},
    "arbitrage": {
        "domainId": 1,
        "includeCategories": [283155],
        "priceTypes": [2],
        "deltaRange": [1950, 9900],
        "deltaPercentRange": [50, 2147483647],
        "salesRankRange": [50000, 1500000],
        "currentRange": [2000, 30100],
        "dateRange": 3,
        "sortType": 4,
        "isRangeEnabled": True,
        "isFilterEnabled": True,
    },
}
README_SELECTIONS["arbitrage_deep"] = {
    **README_SELECTIONS["arbitrage"],
    "deltaPercentRange": [67, 2147483647],
}


def test_strata_are_the_readme_requests_pages_and_rows() -> None:
    s = strata()
    assert {k: v.selection for k, v in s.items()} == README_SELECTIONS
    assert [s[k].all_pages for k in ("broad", "arbitrage", "arbitrage_deep")] == [
        False,
        True,
        False,
    ]
    deep_rows = s["arbitrage_deep"].rows(SCAN)  # 90-day dp: A 60, D 50, C 0: none >= 67
    assert deep_rows == []
    rich = _row("R", used=2500, rank=400_000, avg=(-1, -1, -1, 9000), dp=(0, 0, 0, 67))
    assert [r["asin"] for r, _ in s["arbitrage_deep"].rows([_answer(M0, [A, rich])])] == ["R"]
    assert len(s["arbitrage"].rows(SCAN)) == 4


def _bench() -> Any:
    path = Path(__file__).resolve().parents[2] / "bench" / "market_realism.py"
    spec = importlib.util.spec_from_file_location("market_realism_bench", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["market_realism_bench"] = mod
    spec.loader.exec_module(mod)
    return mod


async def test_bench_asks_page_0_or_every_page_with_the_selection_unchanged() -> None:
    bench = _bench()
    asked: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sel = json.loads(request.url.params["selection"])
        asked.append(sel)
        n = 150 if sel["page"] < 2 else 7  # the third page is short: the scan ends there
        return httpx.Response(200, json={"deals": {"dr": [{}] * n}, "timestamp": _ts(M0)})

    s = strata()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://x"
    ) as http:
        for name in ("broad", "arbitrage", "arbitrage_deep"):
            asked.clear()
            pages = await bench.scan(http, s[name])
            expected = [0, 1, 2] if name == "arbitrage" else [0]
            assert [a.pop("page") for a in asked] == expected
            assert asked == [README_SELECTIONS[name]] * len(expected)
            assert len(pages) == len(expected)


def test_quantiles_pass_within_a_factor_or_the_units_floor_shares_within_5_points() -> None:
    assert close(7.0, 10.0, 0.0) and not close(6.0, 10.0, 0.0)  # factor 1.5
    assert close(-14.0, -10.0, 0.5)  # same sign: magnitudes
    assert close(0.0, 0.3, 0.5) and not close(0.0, 0.6, 0.5)  # 0: only the floor
    assert not close(-2.0, 2.0, 1.0) and close(-2.0, 2.0, 5.0)  # opposite signs
    real = _q(100, 1.0, 2.0, 4.0, 8.5, 21.0)
    # dp (points, floor 5): p75 -> 4 is within 5 points, p90 -> 10 is a factor 2.1 off
    e = compare_one("dp_day", _q(80, -3.0, 0.0, 0.0, 4.0, 10.0), real)
    assert e["pass"] is False and e["failed"] == ["p90"] and e["counted"]
    assert compare_one("x_share", {"n": 50, "pct": 8.0}, {"n": 95, "pct": 3.16})["pass"]
    assert not compare_one("x_share", {"n": 50, "pct": 8.5}, {"n": 95, "pct": 3.16})["pass"]
    assert compare_one("used_price_usd", {"n": 0}, _q(9, *[1.0] * 5))["pass"] is False
    assert compare_one("m", {"n": 3, "p50": 5.0}, {"n": 0, "p50": None})["pass"] is None
    small = compare_one("m", {"n": 30, "p50": 45.0}, {"n": 3, "p50": 19.0})
    assert small["pass"] is False and not small["counted"]


def test_the_report_compares_every_statistic_of_the_calibration_file() -> None:
    cal = load_calibration()
    same = {
        "strata": {k: v["stats"] for k, v in cal["strata"].items()},
        "offers": cal["offers"],
        "product_rank_drops": cal["product_rank_drops"],
    }
    report = compare(same, cal)
    n_stats = sum(
        1
        for sec in (*report["strata"].values(), report["offers"], report["product_rank_drops"])
        for k in sec
        if k != "info"
    )
    # 3 strata x 46 + 14 offer statistics + 5 bands x 2 product rank drop medians
    assert n_stats == report["compared"] + report["not_counted"] == 3 * 46 + 14 + 10
    assert report["failed"] == [] and report["passed"] == report["compared"]
    worse = json.loads(json.dumps(same))
    worse["strata"]["broad"]["rank_mode_share"]["pct"] = 13.6
    assert compare(worse, cal)["failed"] == ["strata.broad.rank_mode_share"]


@pytest.mark.timeout(120)
async def test_bench_measures_the_sandbox_on_every_statistic_of_the_file() -> None:
    out = await _bench().run(
        products=2000,
        seed=7,
        offer_products=5,
        scans={"broad": 1, "arbitrage": 1, "arbitrage_deep": 1},
    )
    broad = out["strata"]["broad"]
    assert broad["info"]["n_deals"]["sandbox"] > 0
    assert broad["used_price_usd"]["sandbox"]["n"] > 0
    assert out["offers"]["info"]["n_products"]["sandbox"] > 0
    assert out["compared"] + out["not_counted"] == 3 * 46 + 14 + 10
    assert out["summary"].startswith(f"{out['passed']}/{out['compared']} statistics")
    broad_failed = [n for n in out["failed"] if n.startswith("strata.broad.")]
    assert broad_failed == [
        f"strata.broad.{k}"
        for k, e in broad.items()
        if k != "info" and e["counted"] and e["pass"] is False
    ]

"""Small builders of Keepa-shaped product dicts with hand-designed histories.

Times are Keepa minutes; prices are cents, exactly as Keepa sends them, so every analytics
formula can be checked against a value computed by hand in the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

from tools.deals.series import datetime_to_keepa_minutes

HOUR = 60
DAY = 24 * HOUR
NOW = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
NOW_MIN = datetime_to_keepa_minutes(NOW)
SLOTS = 36
BOOKS = 283155


def km(year: int, month: int, day: int, hour: int = 12) -> int:
    """Keepa minutes of a UTC date."""
    return datetime_to_keepa_minutes(datetime(year, month, day, hour, tzinfo=UTC))


def flat(points: Sequence[tuple[int, ...]]) -> list[int]:
    return [int(x) for p in points for x in p]


def stats_array(values: dict[int, int] | None = None) -> list[int]:
    arr = [-1] * SLOTS
    for k, v in (values or {}).items():
        arr[k] = v
    return arr


def offer(
    price: int,
    shipping: int = 0,
    *,
    condition: int = 4,
    fba: bool = False,
    amazon: bool = False,
    seller: str = "SELLER1",
    t: int | None = None,
) -> dict[str, Any]:
    return {
        "sellerId": seller,
        "condition": condition,
        "isFBA": fba,
        "isAmazon": amazon,
        "isPrime": fba,
        "isShippable": True,
        "isWarehouseDeal": False,
        "isScam": False,
        "isPreorder": False,
        "isMAP": False,
        "lastSeen": NOW_MIN,
        "offerId": 1,
        "offerCSV": [t or NOW_MIN - DAY, price, shipping],
    }


def product(
    asin: str = "0000000001",
    *,
    title: str = "A Plain Book",
    binding: str = "Paperback",
    root: int = BOOKS,
    category_tree: list[str] | None = None,
    used: list[tuple[int, int]] | None = None,
    rank: list[tuple[int, int]] | None = None,
    count_used: list[tuple[int, int]] | None = None,
    amazon: list[tuple[int, int]] | None = None,
    new: list[tuple[int, int]] | None = None,
    current: dict[int, int] | None = None,
    avg180: dict[int, int] | None = None,
    avg365: dict[int, int] | None = None,
    drops: tuple[int, int, int, int] = (3, 9, 15, 30),
    offers: list[dict[str, Any]] | None = None,
    live: list[int] | None = None,
    referral: float | None = 15.0,
    pick_and_pack: int | None = 350,
    dims: tuple[int, int, int, int] | None = (229, 152, 25, 454),
    buy_box_stats: dict[str, Any] | None = None,
    with_stats: bool = True,
    author: str | None = "Jane Doe",
) -> dict[str, Any]:
    """A Keepa product dict: csv histories from point lists, stats arrays from {index: value}."""
    csv: list[list[int] | None] = [None] * SLOTS
    for idx, points in ((0, amazon), (1, new), (2, used), (3, rank), (12, count_used)):
        if points:
            csv[idx] = flat(points)
    names = category_tree or (["Books", "Textbooks"] if root == BOOKS else ["Toys & Games"])
    p: dict[str, Any] = {
        "asin": asin,
        "domainId": 1,
        "title": title,
        "author": author,
        "binding": binding,
        "rootCategory": root,
        "productType": 0,
        "categoryTree": [{"catId": 1000 + i, "name": n} for i, n in enumerate(names)],
        "csv": csv,
        "lastUpdate": NOW_MIN - HOUR,
        "lastPriceChange": NOW_MIN - DAY,
        "referralFeePercentage": referral,
        "fbaFees": {"pickAndPackFee": pick_and_pack, "lastUpdate": NOW_MIN}
        if pick_and_pack is not None
        else None,
        "images": [{"l": "abc.jpg", "m": "abc_m.jpg"}],
        "publicationDate": 20190514,
    }
    if dims is not None:
        p.update(
            packageLength=dims[0],
            packageWidth=dims[1],
            packageHeight=dims[2],
            packageWeight=dims[3],
        )
    if with_stats:
        p["stats"] = {
            "current": stats_array(current),
            "avg": stats_array(),
            "avg30": stats_array(),
            "avg90": stats_array(),
            "avg180": stats_array(avg180),
            "avg365": stats_array(avg365),
            "salesRankDrops30": drops[0],
            "salesRankDrops90": drops[1],
            "salesRankDrops180": drops[2],
            "salesRankDrops365": drops[3],
            "totalOfferCount": 4,
            "offerCountFBA": 1,
            "offerCountFBM": 3,
            "buyBoxStats": buy_box_stats,
        }
    if offers is not None:
        p["offers"] = offers
        p["liveOffersOrder"] = live if live is not None else list(range(len(offers)))
    return p


class SalesHistory(TypedDict):
    """`product()`'s history arguments, so `product(**sales_history(...))` is type-checked."""

    used: list[tuple[int, int]]
    rank: list[tuple[int, int]]
    count_used: list[tuple[int, int]]


def sales_history(
    sales: list[tuple[int, int]],
    *,
    base_rank: int = 400_000,
    sold_rank: int = 90_000,
    rank_delay: int = HOUR,
    next_price_gap: int = 500,
) -> SalesHistory:
    """Histories with one confirmed inferred sale per (time, price):

    an hour before t the lowest used price is `price`; at t the used count drops 3 -> 2 and the
    next-cheapest offer (price + gap) becomes the lowest; `rank_delay` after t the rank improves
    base -> sold; two days later a new offer arrives (count back to 3) and the rank decays.
    """
    used: list[tuple[int, int]] = []
    rank: list[tuple[int, int]] = []
    count: list[tuple[int, int]] = []
    for t, price in sorted(sales):
        used += [(t - HOUR, price), (t, price + next_price_gap)]
        count += [(t - 2 * HOUR, 3), (t, 2), (t + 2 * DAY, 3)]
        rank += [(t - 2 * HOUR, base_rank), (t + rank_delay, sold_rank), (t + 3 * DAY, base_rank)]
    return {"used": used, "rank": rank, "count_used": count}

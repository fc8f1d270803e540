"""The offers of a /product/ answer with `offers=`: every offer Keepa has seen, live or past.

Real answers (tools/sandbox/calibration) carry a product's whole offer history: ~35-420
offers of which ~3 % are live (listed in `liveOffersOrder`); live offers carry a repricer's
history (median 22 price points), past ones a few points and prices that no longer exist
(a $2 listing that sold last spring must never pass for today's price). Live used offers are
mostly good (52 %) and very good (28 %), a quarter FBA; merchant-fulfilled ones ship free
about half the time, else for $3.99-$5.16. About 0.6 % of offers are flagged `isScam`
(usually absurdly cheap). The cheapest live used offer is the product's current USED price,
so the offers path and the stats path agree.

Seeded per product and market hour: a repeat within the hour sees the same offers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.sandbox.keepa.sellers import AMAZON_SELLER, N_SELLERS
from tools.sandbox.keepa.series import (
    AMAZON,
    COUNT_NEW,
    COUNT_USED,
    DAY,
    NEW,
    USED,
    USED_ACC,
    USED_GOOD,
    USED_NEW,
    USED_VG,
)

USED_CONDITIONS = np.array([2, 3, 4, 5])  # like new, very good, good, acceptable
LIVE_CONDITION_P = np.array([0.07, 0.28, 0.52, 0.13])  # as real live used offers
USED_FBA_SHARE = 0.3
FBM_FREE_SHARE = 0.44
PAID_SHIPPING = np.array([399, 399, 399, 449, 499, 516])  # cents
PAST_SCAM_SHARE = 0.005
PAST_PER_LIVE = 25.0  # past offers per live one (median; real answers: ~3 % live)
LIVE_SCAM_PRODUCTS = 0.03  # products that have a live scam offer right now


def _offer(
    offer_id: int,
    seller: str,
    cond: int,
    csv: list[int],
    last_seen: int,
    fba: bool,
    amazon: bool = False,
    scam: bool = False,
    shippable: bool = True,
) -> dict[str, Any]:
    return {
        "offerId": offer_id,
        "lastSeen": last_seen,
        "sellerId": seller,
        "offerCSV": csv,
        "condition": cond,
        "conditionComment": None,
        "isPrime": fba,
        "isMAP": False,
        "isShippable": shippable,
        "isAddonItem": False,
        "isPreorder": False,
        "isWarehouseDeal": False,
        "isScam": scam,
        "shipsFromChina": False,
        "isAmazon": amazon,
        "isFBA": fba,
        "isPrimeExcl": False,
        "minOrderQty": 1,
    }


def _price_history(
    rng: np.random.Generator,
    price: int,
    ship: int,
    end: int,
    points: int,
) -> list[int]:
    """A repricer's [t, price, shipping, ...] triplets ending at (end, price)."""
    gaps = np.maximum(30, rng.exponential(1.5 * DAY, points - 1)).astype(np.int64)
    times = end - np.concatenate([np.cumsum(gaps[::-1])[::-1], [0]])
    steps = np.exp(rng.normal(0, 0.04, points))
    prices = (price * np.cumprod(steps[::-1])[::-1] / steps[-1] // 10 * 10 - 1).astype(np.int64)
    prices[-1] = price
    trip = np.empty((points, 3), dtype=np.int64)
    trip[:, 0], trip[:, 1], trip[:, 2] = times, np.maximum(prices, 99), ship
    trip[-1, 1] = price
    return trip.ravel().tolist()


# a live listing: seller id, condition, price, shipping (cents), FBA, Amazon, scam
Listing = tuple[str, int, int, int, bool, bool, bool]


def offers_rng(seed: int, i: int, at: int) -> np.random.Generator:
    """Product i's live offers at minute `at` are seeded per market hour: a repeat within the
    hour sees the same offers."""
    return np.random.default_rng([seed, i, at // 60, 9])


def live_listings(
    rng: np.random.Generator,
    sellers: list[dict[str, Any]],
    current: dict[int, int],
    used_ship: int,
) -> list[Listing]:
    """Every live offer of a product whose current values per csv index are `current`, in
    Keepa's order (Amazon, the cheapest used, other used, new, then a scam if any); draws the
    first numbers of `rng` (offers_rng). The one source of both /product/ offers and the
    market's truth (truth.py)."""

    def cur(idx: int) -> int:
        return current.get(idx, -1)

    def seller() -> dict[str, Any]:
        return sellers[int(rng.integers(N_SELLERS))]

    def fbm_shipping() -> int:
        return 0 if rng.random() < FBM_FREE_SHARE else int(rng.choice(PAID_SHIPPING))

    live: list[Listing] = []
    if cur(AMAZON) > 0:
        live.append((AMAZON_SELLER, 1, cur(AMAZON), 0, True, True, False))
    lowest = cur(USED)
    cond_prices = {2: cur(USED_NEW), 3: cur(USED_VG), 4: cur(USED_GOOD), 5: cur(USED_ACC)}
    n_used = max(0, cur(COUNT_USED)) if lowest > 0 else 0
    for j in range(n_used):
        if j == 0:  # the cheapest: the product's USED price, in the condition that has it
            cond = min(
                (c for c, p in cond_prices.items() if p > 0),
                key=lambda c: (cond_prices[c], -c),
                default=5,
            )
            fba = used_ship == 0 and rng.random() < USED_FBA_SHARE
            live.append(
                (seller()["sellerId"], cond, lowest, used_ship if not fba else 0, fba, False, False)
            )
            continue
        cond = int(rng.choice(USED_CONDITIONS, p=LIVE_CONDITION_P))
        base = cond_prices.get(cond, -1)
        base = base if base > 0 else lowest
        price = max(lowest, int(base * rng.uniform(1.0, 1.35) // 10 * 10 - 1))
        fba = rng.random() < USED_FBA_SHARE
        live.append(
            (seller()["sellerId"], cond, price, 0 if fba else fbm_shipping(), fba, False, False)
        )
    newp = cur(NEW)
    for _ in range(min(max(0, cur(COUNT_NEW)), 15) if newp > 0 else 0):
        s = seller()
        fba = bool(s["fba"])
        live.append(
            (
                s["sellerId"],
                1,
                int(newp * rng.uniform(1.0, 1.2) // 10 * 10 - 1),
                0 if fba else 399,
                fba,
                False,
                False,
            )
        )
    if lowest > 0 and rng.random() < LIVE_SCAM_PRODUCTS:  # absurdly cheap, never shippable
        live.append(
            (
                seller()["sellerId"],
                4,
                max(99, int(lowest * rng.uniform(0.1, 0.3))),
                0,
                False,
                False,
                True,
            )
        )
    return live


def live_offer(listing: Listing, csv: list[int], at: int) -> dict[str, Any]:
    """The Keepa offer of a live listing seen at minute `at`, its price history `csv` ending
    at the listing's price and shipping (a scam listing never ships)."""
    s_id, cond, _, _, fba, amazon, scam = listing
    return _offer(0, s_id, cond, csv, at, fba, amazon=amazon, scam=scam, shippable=not scam)


def offers_of(
    seed: int,
    sellers: list[dict[str, Any]],
    i: int,
    current: dict[int, int],
    used_ship: int,
    at: int,
    limit: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(offers, the stats fields they determine) of product i seen at minute `at`;
    `current`: its current value per csv index; `limit`: live offers to retrieve."""
    rng = offers_rng(seed, i, at)
    stable = np.random.default_rng([seed, i, 10])  # the product's past: the same every hour
    live = live_listings(rng, sellers, current, used_ship)
    lowest = current.get(USED, -1)
    n_used = max(0, current.get(COUNT_USED, -1)) if lowest > 0 else 0
    newp = current.get(NEW, -1)
    total_live = len(live)
    live = live[:limit]

    # past offers: listings that sold or were withdrawn, with the prices they had then; a
    # product with more offers now has had more before (~25 past for every live one)
    per_live = stable.lognormal(np.log(PAST_PER_LIVE), 0.8)
    n_past = int(np.clip(round(per_live * max(1, total_live)), 5, 600))
    level = max(lowest, current.get(USED_ACC, -1), newp // 2, 199)
    offers: list[dict[str, Any]] = []
    for _ in range(n_past):
        ended = at - int(stable.integers(DAY, 700 * DAY))
        cond = int(stable.choice([1, 2, 3, 4, 5], p=[0.25, 0.08, 0.22, 0.35, 0.10]))
        price = max(99, int(level * stable.lognormal(0.0, 0.45) // 10 * 10 - 1))
        fba = stable.random() < 0.3
        ship = 0 if fba else (0 if stable.random() < FBM_FREE_SHARE else 399)
        points = int(np.clip(stable.lognormal(np.log(3), 1.9), 1, 200))
        scam = stable.random() < PAST_SCAM_SHARE
        offers.append(
            _offer(
                0,
                sellers[int(stable.integers(N_SELLERS))]["sellerId"],
                cond,
                _price_history(stable, price, ship, ended, points),
                ended,
                fba,
                scam=scam,
            )
        )
    live_ix: list[int] = []
    for listing in live:
        # a new listing has a point or two; an established one its repricer's history
        new_listing = rng.random() < 0.3
        points = (
            int(rng.integers(1, 4))
            if new_listing
            else int(np.clip(rng.lognormal(np.log(40), 1.3), 1, 300))
        )
        live_ix.append(len(offers))
        offers.append(
            live_offer(listing, _price_history(rng, listing[2], listing[3], at, points), at)
        )
    order = rng.permutation(len(offers))  # Keepa's list is not grouped by live/past
    offers = [offers[k] for k in order]
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    for k, o in enumerate(offers):
        o["offerId"] = k
    live_offers = [offers[int(where[j])] for j in live_ix]
    live_order = sorted(
        (int(where[j]) for j in live_ix),
        key=lambda k: offers[k]["offerCSV"][-2] + max(0, offers[k]["offerCSV"][-1]),
    )
    new_live = [o for o in live_offers if o["condition"] == 1]
    fba_new = sum(1 for o in new_live if o["isFBA"])
    extra: dict[str, Any] = {
        "offerCountFBA": fba_new,
        "offerCountFBM": len(new_live) - fba_new,
        "retrievedOfferCount": len(live_offers),
        "totalOfferCount": total_live,
        "lastOffersUpdate": at,
        **_buy_box(rng, new_live, n_used, at),
    }
    extra["liveOffersOrder"] = live_order
    return offers, extra


def _buy_box(
    rng: np.random.Generator,
    new_live: list[dict[str, Any]],
    n_used: int,
    at: int,
) -> dict[str, Any]:
    """The new buy box: the cheapest new offer holds it now; over time it is shared by the
    two or three cheapest sellers (buyBoxStats.percentageWon sums to 100)."""
    if not new_live:
        return {
            "buyBoxPrice": -1,
            "buyBoxShipping": -1,
            "buyBoxSellerId": None,
            "buyBoxIsAmazon": False,
            "buyBoxIsFBA": False,
            "buyBoxIsUsed": False,
            "buyBoxCondition": None,
            "buyBoxStats": {},
        }
    ranked = sorted(new_live, key=lambda o: o["offerCSV"][-2] + max(0, o["offerCSV"][-1]))
    bb = ranked[0]
    holders = ranked[:3]
    shares = rng.dirichlet(np.linspace(3.0, 1.0, len(holders))) * 100
    shares[::-1].sort()
    stats = {
        o["sellerId"]: {
            "avgNewOfferCount": len(new_live),
            "avgPrice": o["offerCSV"][-2],
            "avgUsedOfferCount": n_used,
            "isFBA": o["isFBA"],
            "lastSeen": at,
            "percentageWon": round(float(p), 1),
        }
        for o, p in zip(holders, shares, strict=True)
    }
    return {
        "buyBoxPrice": bb["offerCSV"][-2],
        "buyBoxShipping": max(0, bb["offerCSV"][-1]),
        "buyBoxSellerId": bb["sellerId"],
        "buyBoxIsAmazon": bool(bb["isAmazon"]),
        "buyBoxIsFBA": bool(bb["isFBA"]),
        "buyBoxIsUsed": False,
        "buyBoxCondition": 1,
        "buyBoxStats": stats,
    }

"""The live offers of a /product/ answer with `offers=`, drawn from the product's current
prices and offer counts (seeded per product and market hour, so a repeat within the hour sees
the same offers)."""

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


def offers_of(seed: int, sellers: list[dict[str, Any]], i: int, current: dict[int, int],
              used_ship: int, at: int, limit: int,
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(offers, the stats fields they determine: offer counts and buy box) of product i seen
    at minute `at`; `current`: its current value per csv index."""
    rng = np.random.default_rng([seed, i, at // 60, 9])
    offers: list[dict[str, Any]] = []

    def cur(idx: int) -> int:
        return current.get(idx, -1)

    def add(seller: str, cond: int, price: int, ship: int, fba: bool, amazon: bool) -> None:
        first = at - int(rng.integers(60, 40 * DAY))
        old = price + int(rng.integers(0, 3)) * 100
        ocsv = [first, old, ship] if old == price else [first, old, ship, at - 30, price,
                                                         ship]
        offers.append({"offerId": len(offers), "lastSeen": at, "sellerId": seller,
                       "offerCSV": ocsv, "condition": cond, "conditionComment": None,
                       "isPrime": fba, "isMAP": False, "isShippable": True,
                       "isPreorder": False, "isWarehouseDeal": False,
                       "shipsFromChina": False, "isAmazon": amazon, "isFBA": fba,
                       "isPrimeExcl": False, "minOrderQty": 1})

    if cur(AMAZON) > 0:
        add(AMAZON_SELLER, 1, cur(AMAZON), 0, True, True)
    n_used = max(0, cur(COUNT_USED))
    lowest = cur(USED)
    cond_prices = {2: cur(USED_NEW), 3: cur(USED_VG), 4: cur(USED_GOOD), 5: cur(USED_ACC)}
    for j in range(n_used):
        seller = sellers[int(rng.integers(N_SELLERS))]
        cond = 5 if j == 0 else int(rng.choice([2, 3, 4, 5], p=[0.2, 0.35, 0.3, 0.15]))
        base = cond_prices.get(cond, -1)
        base = base if base > 0 else lowest
        if base <= 0:
            break
        price = lowest if j == 0 else int(base * rng.uniform(1.0, 1.3) // 10 * 10 - 1)
        fba = bool(seller["fba"] and rng.random() < 0.8)
        ship = 0 if fba else (used_ship if rng.random() > 0.1 else -1)
        if fba and rng.random() < 0.05:
            ship = -1  # FBA offers with unknown shipping (count as free)
        add(seller["sellerId"], cond, price, ship, fba, False)
    for _ in range(min(max(0, cur(COUNT_NEW)), 15)):
        seller = sellers[int(rng.integers(N_SELLERS))]
        newp = cur(NEW)
        if newp <= 0:
            break
        fba = bool(seller["fba"])
        add(seller["sellerId"], 1, int(newp * rng.uniform(1.0, 1.2) // 10 * 10 - 1),
            0 if fba else 399, fba, False)
    offers = offers[:limit]
    for k, o in enumerate(offers):
        o["offerId"] = k
    fba_n = sum(1 for o in offers if o["isFBA"])
    new_offers = [o for o in offers if o["condition"] == 1]
    bb = min(new_offers, key=lambda o: o["offerCSV"][-2], default=None)
    extra: dict[str, Any] = {
        "offerCountFBA": fba_n, "offerCountFBM": len(offers) - fba_n,
        "retrievedOfferCount": len(offers), "totalOfferCount": len(offers),
        "lastOffersUpdate": at,
        "buyBoxPrice": bb["offerCSV"][-2] if bb else -1,
        "buyBoxShipping": max(0, bb["offerCSV"][-1]) if bb else -1,
        "buyBoxSellerId": bb["sellerId"] if bb else None,
        "buyBoxIsAmazon": bool(bb and bb["isAmazon"]), "buyBoxIsFBA": bool(bb and bb["isFBA"]),
        "buyBoxIsUsed": False, "buyBoxCondition": 1 if bb else None,
        "buyBoxStats": ({bb["sellerId"]: {"avgNewOfferCount": len(new_offers),
                                           "avgPrice": bb["offerCSV"][-2],
                                           "avgUsedOfferCount": n_used,
                                           "isFBA": bb["isFBA"], "lastSeen": at,
                                           "percentageWon": 100.0}} if bb else {}),
    }
    return offers, extra

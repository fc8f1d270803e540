"""/seller/: the market's third-party sellers (seeded) as Keepa describes them."""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.sandbox.keepa.core import MarketCore

AMAZON_SELLER = "ATVPDKIKX0DER"
N_SELLERS = 1500
_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def build_sellers(seed: int) -> list[dict[str, Any]]:
    """The N_SELLERS sellers offers are drawn from (id, name, rating, rating count, FBA)."""
    rng = np.random.default_rng([seed, 0x5E11])
    out = []
    for j in range(N_SELLERS):
        sid = "A" + "".join(_CHARS[c] for c in rng.integers(0, 36, 13))
        rating = int(np.clip(rng.normal(92, 8), 40, 100))
        count = int(rng.lognormal(6, 1.8))
        out.append(
            {
                "sellerId": sid,
                "sellerName": f"Sandbox Books {j}",
                "rating": rating,
                "count": count,
                "fba": bool(rng.random() < 0.4),
            }
        )
    return out


class Sellers:
    """The /seller/ endpoint over a market; `records` are the sellers its offers come from."""

    def __init__(self, market: MarketCore) -> None:
        self.market = market
        self.records = build_sellers(market.seed)

    def seller(self, seller_id: str) -> dict[str, Any] | None:
        """Keepa's seller object, or None for a seller the market does not know."""
        t0 = self.market.t0
        now = self.market.now_min()
        s: dict[str, Any] | None
        if seller_id == AMAZON_SELLER:
            s = {
                "sellerId": AMAZON_SELLER,
                "sellerName": "Amazon.com",
                "rating": 100,
                "count": 0,
                "fba": True,
            }
        else:
            s = next((x for x in self.records if x["sellerId"] == seller_id), None)
            if s is None:
                return None
        r, n = s["rating"], s["count"]
        return {
            "domainId": 1,
            "sellerId": s["sellerId"],
            "sellerName": s["sellerName"],
            "trackedSince": t0,
            "lastUpdate": now,
            "lastRatingUpdate": now,
            "csv": [[t0, r, now - 60, r], [t0, max(0, n - 50), now - 60, n]],
            "currentRating": r,
            "currentRatingCount": n,
            "ratingCount": [max(0, n // 60), max(0, n // 20), max(0, n // 5), n],
            "positiveRating": [r, r, r, r],
            "negativeRating": [100 - r] * 4,
            "neutralRating": [0, 0, 0, 0],
            "hasFBA": s["fba"],
            "shipsFromChina": False,
            "isScammer": False,
        }

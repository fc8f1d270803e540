"""The market's truth: what each product really is at an instant, to judge a client's data by.

A client's database holds what Keepa answered when it last asked; the market knows the present.
`Truth.truth(asins, at)` gives each product's current values and every live offer exactly as a
/product/ request at that minute with `update=0` (Keepa refreshes the product then) carries
them: the same series cut (products.Cut) and the same live listings (offers.live_listings,
drawn from the same seeded stream), so the truth and the answers cannot disagree. It builds no
history, no stats and none of the past offers a /product/ answer holds, and costs no tokens:
a simulation can judge thousands of products every simulated hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tools.sandbox.keepa.core import MarketCore
from tools.sandbox.keepa.offers import Listing, live_listings, live_offer, offers_rng
from tools.sandbox.keepa.products import Cut
from tools.sandbox.keepa.series import SALES
from tools.sandbox.keepa.stats import SeriesTable

CHUNK = 256  # products cut together (bounds the concatenated table)
USED_CONDITIONS = frozenset({2, 3, 4, 5})  # like new, very good, good, acceptable


@dataclass(frozen=True, slots=True)
class TrueOffer:
    """One live offer: Keepa's condition code (1 new, 2 like new ... 5 acceptable), price
    and shipping in cents."""

    seller_id: str
    condition: int
    price: int
    shipping: int
    is_fba: bool
    is_amazon: bool
    is_scam: bool
    is_shippable: bool

    @property
    def total(self) -> int:
        return self.price + max(0, self.shipping)


@dataclass(frozen=True, slots=True)
class ProductTruth:
    """A product at minute `at`: its current value per csv index (raw, shipping excluded;
    -1 none) and its live offers in Keepa's order, with the Keepa offer dicts they are (None
    when not asked for)."""

    asin: str
    at: int
    current: dict[int, int]
    offers: tuple[TrueOffer, ...] | None
    keepa: tuple[dict[str, Any], ...] | None

    @property
    def sales_rank(self) -> int | None:
        rank = self.current.get(SALES, -1)
        return rank if rank > 0 else None

    @property
    def used_offers(self) -> tuple[TrueOffer, ...]:
        """The live used offers a buyer can actually buy (no scam, ships to the buyer)."""
        if self.offers is None:
            raise ValueError("truth taken without offers")
        return tuple(
            o
            for o in self.offers
            if o.condition in USED_CONDITIONS and not o.is_scam and o.is_shippable
        )

    @property
    def cheapest_used(self) -> TrueOffer | None:
        """The used copy to buy now: lowest total, then the better condition."""
        return min(self.used_offers, key=lambda o: (o.total, o.condition), default=None)

    def keepa_offers(self) -> list[dict[str, Any]]:
        """The live offers as a /product/ answer holds them (each offerCSV one triplet: the
        price now); every one of them is live (liveOffersOrder would list them all)."""
        if self.keepa is None:
            raise ValueError("truth taken without offers")
        return [dict(o) for o in self.keepa]


def _true_offer(listing: Listing, keepa: dict[str, Any]) -> TrueOffer:
    s_id, cond, price, ship, fba, amazon, scam = listing
    return TrueOffer(s_id, cond, price, ship, fba, amazon, scam, bool(keepa["isShippable"]))


class Truth:
    """The truth over a market (its sellers: the ones /product/ offers name)."""

    def __init__(self, market: MarketCore, sellers: list[dict[str, Any]]) -> None:
        self.market = market
        self.sellers = sellers

    def truth(
        self, asins: Sequence[str], at: int | None = None, *, offers: bool = True
    ) -> list[ProductTruth | None]:
        """Each product's truth at Keepa minute `at` (default: now); None for unknown ASINs.
        `offers=False`: the current values only (no live offers drawn: ~20x cheaper)."""
        market = self.market
        at = market.now_min() if at is None else min(int(at), market.end_min)
        known = [(k, i) for k, a in enumerate(asins) if (i := market.index_of(a)) is not None]
        out: list[ProductTruth | None] = [None] * len(asins)
        for c in range(0, len(known), CHUNK):
            part = known[c : c + CHUNK]
            entries = market.entries([i for _, i in part], at)
            tab = SeriesTable.concat([e.table for e in entries])
            current, _ = Cut(tab, np.full(len(part), at, dtype=np.int64), None, False).current()
            for (k, i), entry, cur in zip(part, entries, current, strict=True):
                asin = market.catalog.asins[i]
                if not offers:
                    out[k] = ProductTruth(asin, at, cur, None, None)
                    continue
                live = live_listings(
                    offers_rng(market.seed, i, at), self.sellers, cur, entry.used_ship
                )
                keepa = tuple(live_offer(x, [at, x[2], x[3]], at) for x in live)
                out[k] = ProductTruth(
                    asin,
                    at,
                    cur,
                    tuple(_true_offer(x, o) for x, o in zip(live, keepa, strict=True)),
                    keepa,
                )
        return out

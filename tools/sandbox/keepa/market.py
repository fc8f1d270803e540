"""SandboxMarket: the seeded synthetic market behind the Keepa-compatible app.

One object per market: the shared state and time (core.py) plus one part per endpoint, each in
its own module (products.py, offers.py, deals.py, query.py, sellers.py, categories.py), and the
market's truth (truth.py: what every product really is now, for simulations to judge by). This
class is the Python API the app, the simulations and the tests call; token accounting (the
bucket in tokens.py, the costs in tools/keepa/costs.py) follows docs/domain.md exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.clock import Clock
from tools.sandbox.keepa.categories import category
from tools.sandbox.keepa.core import MarketCore
from tools.sandbox.keepa.deals import Deals
from tools.sandbox.keepa.products import Products
from tools.sandbox.keepa.query import ProductFinder
from tools.sandbox.keepa.sellers import Sellers
from tools.sandbox.keepa.truth import ProductTruth, Truth


class SandboxMarket(MarketCore):
    def __init__(
        self,
        n_products: int = 20_000,
        seed: int = 42,
        refill_rate: int = 20,
        clock: Clock | None = None,
        start: float | None = None,
        history_days: int = 730,
        future_days: int = 400,
        initial_tokens: int | None = None,
        cache_size: int = 1000,
    ) -> None:
        super().__init__(
            n_products=n_products,
            seed=seed,
            refill_rate=refill_rate,
            clock=clock,
            start=start,
            history_days=history_days,
            future_days=future_days,
            initial_tokens=initial_tokens,
            cache_size=cache_size,
        )
        self._sellers = Sellers(self)
        self._products = Products(self, self._sellers.records)
        self._deals = Deals(self)
        self._finder = ProductFinder(self)
        self._truth = Truth(self, self._sellers.records)

    def product(
        self,
        asin: str,
        *,
        stats: int | None = None,
        history: bool = True,
        offers: int | None = None,
        buybox: bool = False,
        rating: bool = False,
        update: int | None = None,
        days: int | None = None,
    ) -> tuple[dict[str, Any], int] | None:
        """(Keepa product dict, token cost) or None for an unknown ASIN."""
        return self.products(
            [asin],
            stats=stats,
            history=history,
            offers=offers,
            buybox=buybox,
            rating=rating,
            update=update,
            days=days,
        )[0]

    def products(
        self,
        asins: Sequence[str],
        *,
        stats: int | None = None,
        history: bool = True,
        offers: int | None = None,
        buybox: bool = False,
        rating: bool = False,
        update: int | None = None,
        days: int | None = None,
        arrays: bool = False,
    ) -> list[tuple[dict[str, Any], int] | None]:
        """/product/ for many ASINs at once (see Products.products); None for unknown ASINs."""
        return self._products.products(
            asins,
            stats=stats,
            history=history,
            offers=offers,
            buybox=buybox,
            rating=rating,
            update=update,
            days=days,
            arrays=arrays,
        )

    def deals(self, selection: dict[str, Any]) -> dict[str, Any]:
        """The `deals` object of one /deal/ page (see Deals.deals)."""
        return self._deals.deals(selection)

    def deal_asins(self, selection: dict[str, Any]) -> list[str]:
        """Every ASIN /deal/ lists for `selection` now, over all its pages (no tokens): the
        products a deal query matches, for judging a client against the market."""
        out: list[str] = []
        page = 0
        while True:
            rows = self.deals({**selection, "page": page})["dr"]
            out += [r["asin"] for r in rows]
            if len(rows) < 150:
                return out
            page += 1

    def truth(
        self, asins: Sequence[str], at: int | None = None, *, offers: bool = True
    ) -> list[ProductTruth | None]:
        """The true state of products at Keepa minute `at` (default: now), as a /product/
        request with update=0 would answer it (see truth.py); None for unknown ASINs.
        `offers=False`: current values only."""
        return self._truth.truth(asins, at, offers=offers)

    def query(self, selection: dict[str, Any]) -> tuple[list[str], int]:
        """Product finder: (asinList page, totalResults among scanned products)."""
        return self._finder.query(selection)

    def seller(self, seller_id: str) -> dict[str, Any] | None:
        return self._sellers.seller(seller_id)

    def category(self, cat_id: int) -> dict[str, Any] | None:
        return category(self.catalog, cat_id)

"""Keepa's token costs, in one place (docs/domain.md "Token costs").

Two uses of the same rules: what Keepa charges once it knows the answer (`*_charge`: the
sandbox bills exactly this, tests/unit/sandbox/keepa/test_app.py), and what the client
reserves from the shared budget before a call (`estimate_*`); the answer's `tokensConsumed`
corrects the estimate afterwards.
"""

from __future__ import annotations

import math

PRODUCT_PER_ASIN = 1  # stats and history are free
OFFERS_PER_PAGE = 6  # per page of up to 10 offers found; replaces PRODUCT_PER_ASIN
OFFERS_FRESH_PER_PAGE = 5  # offer data still fresh (fetched within the hour), or none found
OFFERS_FRESH_MIN = 60
BUYBOX_EXTRA = 2  # ignored when offers are requested
RATING_EXTRA = 1  # "up to +1": charged when the product has rating data
FORCED_REFRESH_EXTRA = 1  # update=0 on data under an hour old
DEAL_PER_PAGE = 5  # per request of up to 150 deals
FINDER_BASE = 10
FINDER_PER_100 = 1  # per 100 ASINs returned
SELLER_EACH = 1
STOREFRONT_EXTRA = 9  # per seller, with storefront=1
CATEGORY_EACH = 1
DEALS_PER_PAGE = 150
OFFERS_PER_PAGE_COUNT = 10


# ---- what Keepa charges ------------------------------------------------------------------


def product_charge(
    *,
    offers_found: int | None = None,
    offers_fresh: bool = False,
    buybox: bool = False,
    rating: bool = False,
    forced_refresh: bool = False,
) -> int:
    """Tokens one product of a /product/ answer costs.

    `offers_found`: None without `offers=`, else how many offers the answer holds;
    `offers_fresh`: the product's offers were fetched within the hour; `rating`: rating data
    was asked for and the product has some; `forced_refresh`: `update=0` on data under 1 h old.
    """
    if offers_found is None:
        cost = PRODUCT_PER_ASIN + (BUYBOX_EXTRA if buybox else 0)
    elif offers_found == 0:
        cost = OFFERS_FRESH_PER_PAGE
    else:
        per_page = OFFERS_FRESH_PER_PAGE if offers_fresh else OFFERS_PER_PAGE
        cost = per_page * math.ceil(offers_found / OFFERS_PER_PAGE_COUNT)
    return cost + (RATING_EXTRA if rating else 0) + (FORCED_REFRESH_EXTRA if forced_refresh else 0)


def deal_charge() -> int:
    """One /deal/ page (up to 150 deals)."""
    return DEAL_PER_PAGE


def finder_charge(n_asins: int) -> int:
    """One /query/ (product finder) page returning `n_asins` ASINs."""
    return FINDER_BASE + FINDER_PER_100 * math.ceil(n_asins / 100)


def seller_charge(n_sellers: int, storefront: bool = False) -> int:
    return n_sellers * (SELLER_EACH + (STOREFRONT_EXTRA if storefront else 0))


def category_charge(n_ids: int) -> int:
    return CATEGORY_EACH * n_ids


# ---- what the client reserves before a call -------------------------------------------


def estimate_product_cost(
    n_asins: int,
    *,
    offers: int | None = None,
    buybox: bool = False,
    rating: bool = False,
    expected_offers: int | None = None,
) -> int:
    """Upper-ish estimate: with offers, 6 per expected page of 10 offers (at least one page)."""
    if n_asins <= 0:
        return 0
    if offers:
        found = offers if expected_offers is None else min(offers, max(expected_offers, 1))
        per = OFFERS_PER_PAGE * max(1, math.ceil(found / OFFERS_PER_PAGE_COUNT))
    else:
        per = PRODUCT_PER_ASIN + (BUYBOX_EXTRA if buybox else 0)
    if rating:
        per += RATING_EXTRA
    return per * n_asins


def estimate_deal_cost() -> int:
    return deal_charge()


def estimate_finder_cost(per_page: int = 50) -> int:
    return finder_charge(max(1, per_page))


def estimate_seller_cost(n_sellers: int, storefront: bool = False) -> int:
    return seller_charge(n_sellers, storefront)


def estimate_category_cost(n_ids: int) -> int:
    return category_charge(max(1, n_ids))

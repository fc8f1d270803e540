"""Token cost estimates made before a call (docs/domain.md "Token costs"); the answer's
`tokensConsumed` corrects them after."""

from __future__ import annotations

import math

PRODUCT_PER_ASIN = 1
OFFERS_PER_PAGE = 6  # per page of up to 10 offers found
BUYBOX_EXTRA = 2  # ignored when offers are requested
RATING_EXTRA = 1  # "up to +1"
DEAL_PER_PAGE = 5  # per request of up to 150 deals
FINDER_BASE = 10
FINDER_PER_100 = 1
SELLER_EACH = 1
CATEGORY_EACH = 1
DEALS_PER_PAGE = 150
OFFERS_PER_PAGE_COUNT = 10


def estimate_product_cost(n_asins: int, *, offers: int | None = None, buybox: bool = False,
                          rating: bool = False, expected_offers: int | None = None) -> int:
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
    return DEAL_PER_PAGE


def estimate_finder_cost(per_page: int = 50) -> int:
    return FINDER_BASE + FINDER_PER_100 * max(1, math.ceil(per_page / 100))


def estimate_seller_cost(n_sellers: int, storefront: bool = False) -> int:
    return n_sellers * (SELLER_EACH + (9 if storefront else 0))


def estimate_category_cost(n_ids: int) -> int:
    return CATEGORY_EACH * max(1, n_ids)

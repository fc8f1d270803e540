"""Deals: analytics from Keepa products, the money math, and search over the deals table.

Public API (import from here or from the submodules):
    analyse_product(product, *, sellers=None, now=None, settings=None, validate=True) -> DealRecord
    deal_row(record) -> dict, upsert_deal(session, record)
    search_deals(session, query, user) -> SearchResult, get_deal_detail(session, asin, user)

Names load on first use (PEP 562): a search never needs analytics' numpy, and importing the
package for `tools.deals.search` or `tools.deals.money` must not cost `arbitrage ask` its import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.deals.analytics import DealInputError, DealRecord, SellerInfo, analyse_product
    from tools.deals.search import (
        DealDetail,
        DealSearch,
        DealSearchError,
        DealSummary,
        SearchResult,
        get_deal_detail,
        search_deals,
        validate_search,
    )
    from tools.deals.store import deal_row, history_row, upsert_deal

_HOME = {
    "DealInputError": "tools.deals.analytics",
    "DealRecord": "tools.deals.analytics",
    "SellerInfo": "tools.deals.analytics",
    "analyse_product": "tools.deals.analytics",
    "DealDetail": "tools.deals.search",
    "DealSearch": "tools.deals.search",
    "DealSearchError": "tools.deals.search",
    "DealSummary": "tools.deals.search",
    "SearchResult": "tools.deals.search",
    "get_deal_detail": "tools.deals.search",
    "search_deals": "tools.deals.search",
    "validate_search": "tools.deals.search",
    "deal_row": "tools.deals.store",
    "history_row": "tools.deals.store",
    "upsert_deal": "tools.deals.store",
}

__all__ = [
    "DealDetail",
    "DealInputError",
    "DealRecord",
    "DealSearch",
    "DealSearchError",
    "DealSummary",
    "SearchResult",
    "SellerInfo",
    "analyse_product",
    "deal_row",
    "get_deal_detail",
    "history_row",
    "search_deals",
    "upsert_deal",
    "validate_search",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tools.deals' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: later lookups skip this function
    return value

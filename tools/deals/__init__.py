"""Deals: analytics from Keepa products, the money math, and search over the deals table.

Public API (import from here or from the submodules):
    analyse_product(product, *, sellers=None, now=None, settings=None, validate=True) -> DealRecord
    deal_row(record) -> dict, upsert_deal(session, record)
    search_deals(session, query, user) -> SearchResult, get_deal_detail(session, asin, user)
"""

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

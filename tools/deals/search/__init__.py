"""Deal search: a seller's `DealSearch` over the deals table, and one deal in detail.

filters  DealSearch (the seller's filters, sort and paging), validate_search, WHERE terms
bounds   provable index bounds for money sorts under a user's settings
planner  which index to walk for a page, and the capped count
models   DealSummary, DealDetail, SearchResult (read models over tools/models.py's fields)
api      search_deals, get_deal_detail
"""

from tools.deals.search.api import get_deal_detail, search_deals
from tools.deals.search.filters import DealSearch, DealSearchError, validate_search
from tools.deals.search.models import DealDetail, DealSummary, SearchResult

__all__ = [
    "DealDetail",
    "DealSearch",
    "DealSearchError",
    "DealSummary",
    "SearchResult",
    "get_deal_detail",
    "search_deals",
    "validate_search",
]

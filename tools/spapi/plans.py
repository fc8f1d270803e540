"""SP-API usage plans (rate in requests per second, burst) of the operations we call, as each
operation's model documents them (amzn/selling-partner-api-models). The shared client limiter
and the sandbox both read them, so the sandbox refuses exactly what Amazon would.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second, refilled continuously
    burst: int  # bucket size

    def minimum_seconds(self, requests: int) -> float:
        """The least time `requests` calls can take under this plan from a full bucket: the
        burst goes at once, every further call waits 1/rate."""
        return max(0, requests - self.burst) / self.rate


USAGE_PLANS: dict[str, UsagePlan] = {
    "getListingsRestrictions": UsagePlan(5.0, 10),
    "getInventorySummaries": UsagePlan(2.0, 2),
    "getOrders": UsagePlan(0.0167, 20),
    "getOrderItems": UsagePlan(0.5, 30),
    "listFinancialEvents": UsagePlan(0.5, 30),
}

INVENTORY_PAGE_SIZE = 50  # getInventorySummaries answers at most 50 summaries a page
ORDERS_PAGE_SIZE = 100  # getOrders MaxResultsPerPage: 1-100
FINANCES_PAGE_SIZE = 100  # listFinancialEvents MaxResultsPerPage: 1-100
FINANCES_MAX_WINDOW_DAYS = 180  # PostedAfter..PostedBefore further apart answers nothing
MIN_AGE_S = 120.0  # CreatedBefore/LastUpdatedBefore/PostedBefore: at least 2 min in the past

"""What a search answers: result rows, the one-deal detail, and the result envelope.

The deal fields come from the shared bases in tools/models.py (declared once there); these read
models add only what a reader needs besides them: the money under the asking user's settings
(`DealMoney`), the user's gating, and month lists instead of the table's "8,9,1" text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel import Field

from tools.models import DealDetailFields, DealListingFields, DealMoney

# the table columns a result row reads; DealMoney is computed in SQL under the user's settings
LISTING_COLUMNS: tuple[str, ...] = tuple(DealListingFields.model_fields)
USER_MONEY: tuple[str, ...] = tuple(DealMoney.model_fields)


def month_list(text: str | None) -> list[int]:
    """The table's "8,9,1" as [8, 9, 1]."""
    return [int(x) for x in text.split(",") if x.strip()] if text else []


class DealSummary(DealListingFields, DealMoney):
    """One row of a search result; money under the asking user's settings."""

    # the table's "8,9,1" as numbers (a representation, not another field)
    peak_months: list[int] = Field(default_factory=list)  # type: ignore[assignment]
    gated: str | None = None  # restricted | not_restricted | error | pending; None: no user


class SearchResult(BaseModel):
    total: int  # matching deals; a lower bound when total_capped (counting stops at the cap)
    total_capped: bool = False  # True: "total+ deals match" (at least TOTAL_CAP deals)
    items: list[DealSummary]
    query: dict[str, Any]  # the filters as asked (non-default fields)
    applied: dict[str, Any]  # thresholds actually applied, incl. the user's saved ones
    settings: dict[str, Any]  # the money settings the numbers use


class DealDetail(DealSummary, DealDetailFields):
    """Everything about one deal for one user."""

    trough_months: list[int] = Field(default_factory=list)  # type: ignore[assignment]
    restriction_reason: str | None = None
    approval_url: str | None = None
    # used_price / sales_rank / amazon_price / new_price chart series
    history: dict[str, Any] = Field(default_factory=dict)
    inferred_sales: list[dict[str, Any]] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)

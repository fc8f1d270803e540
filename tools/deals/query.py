"""`DealQuery`: the one typed description of "which deals?" shared by the agent, UI and search.

The offline model's parser, an LLM's tool call and the chat UI all produce this object; search
turns it into parameterized SQL. Unknown fields and out-of-range values are rejected with a
message that says what is allowed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SeasonalityLabel = Literal["textbook", "exam_prep", "holiday", "summer", "year_round"]
Condition = Literal["like_new", "very_good", "good", "acceptable"]
GatedFilter = Literal["include", "exclude", "only_ungated"]
SortKey = Literal["roi", "profit", "margin", "rank", "drops", "newest", "percent_down"]

SEASONALITY_LABELS: tuple[str, ...] = SeasonalityLabel.__args__  # type: ignore[attr-defined]
CONDITIONS: tuple[str, ...] = Condition.__args__  # type: ignore[attr-defined]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]


class DealQuery(BaseModel):
    """Filters, sort and paging over deals; money filters use the asking user's settings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(default=None, max_length=200,
                             description="words that must appear in the title or author")
    category: str | None = Field(default=None, max_length=100,
                                 description="category name or path part, e.g. 'Medical Books'")
    min_price: float | None = Field(default=None, ge=0, le=10_000, description="Price Now >= $")
    max_price: float | None = Field(default=None, ge=0, le=10_000, description="Price Now <= $")
    min_roi: float | None = Field(default=None, ge=-100, le=10_000, description="ROI >= %")
    max_roi: float | None = Field(default=None, ge=-100, le=10_000, description="ROI <= %")
    min_profit: float | None = Field(default=None, ge=-10_000, le=10_000, description="Profit >= $")
    max_profit: float | None = Field(default=None, ge=-10_000, le=10_000, description="Profit <= $")
    min_margin: float | None = Field(default=None, ge=-100, le=100, description="Margin >= %")
    max_margin: float | None = Field(default=None, ge=-100, le=100, description="Margin <= %")
    max_rank: int | None = Field(default=None, ge=1, le=50_000_000, description="sales rank <=")
    min_drops_30: int | None = Field(default=None, ge=0, le=1_000, description="rank drops, 30 d")
    min_drops_90: int | None = Field(default=None, ge=0, le=3_000, description="rank drops, 90 d")
    min_drops_365: int | None = Field(default=None, ge=0, le=10_000, description="drops, 365 d")
    seasonality: SeasonalityLabel | None = None
    in_peak_now: bool = Field(default=False, description="only items whose peak month is now")
    peak_month: int | None = Field(default=None, ge=1, le=12, description="peaks in this month")
    min_percent_down: float | None = Field(default=None, ge=0, le=100,
                                           description="at least this % below the 1yr. Avg.")
    gated: GatedFilter = Field(default="include", description="include | exclude (gated for "
                               "me) | only_ungated (checked and not restricted for me)")
    amazon_offer: bool | None = Field(default=None, description="Amazon on the listing or not")
    condition: Condition | None = None
    updated_within_hours: int | None = Field(default=None, ge=1, le=24 * 365)
    include_unprofitable: bool = Field(default=False,
                                       description="also show deals without profit")
    sort: SortKey = "roi"
    limit: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> DealQuery:
        for lo, hi in (("min_price", "max_price"), ("min_roi", "max_roi"),
                       ("min_profit", "max_profit"), ("min_margin", "max_margin")):
            a, b = getattr(self, lo), getattr(self, hi)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{lo} ({a}) must not exceed {hi} ({b})")
        return self

    def filters(self) -> dict[str, object]:
        """Only the fields that differ from the defaults (compact, for tool results and tests)."""
        return self.model_dump(exclude_defaults=True)

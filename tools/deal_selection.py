"""The admin's deal selection: the Keepa `/deal/` `selection` the scout and backfill walk.

Admins call it "the deal query" (the chat tool `set_deal_query`, `arbitrage backfill`'s help);
in code it is the deal *selection*, apart from the deal search's filters (tools/deals) and the
offline parser's reading of a question (agent/offline/parser.py). Stored in `system_state` so
admins can change what the workers discover without a restart. The workers (scout, backfill)
and the agent's `set_deal_query` tool both go through these functions, which is why they live in
tools/ (agent code may not import workers). Validation rejects unknown keys and out-of-range
values with a message naming the field, and a bad selection is never stored (the previous one
keeps working).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session

from tools.models import SystemState, utcnow
from tools.settings import KEEPA_DOMAINS

# the row existing databases hold the selection in (the admin-facing name, kept as stored)
DEAL_SELECTION_KEY = "deal_query"
BOOKS_ROOT = 283155
INT32_MAX = 2_147_483_647

# Used books, US, last week's changes, newest first (sortType 1 lets the scout stop at its
# watermark instead of paging through deals it has already seen).
DEFAULT_SELECTION: dict[str, Any] = {
    "domainId": 1,
    "priceTypes": [2],
    "includeCategories": [BOOKS_ROOT],
    "excludeCategories": [],
    "dateRange": 1,
    "sortType": 1,
    "isFilterEnabled": True,
    "isRangeEnabled": True,
    "salesRankRange": [1, 3_000_000],
    "currentRange": [300, 150_000],
    "deltaPercentRange": [0, 100],
}


class DealSelectionError(ValueError):
    """The deal selection is invalid; the message names the field and what is allowed."""


def _range(v: list[int] | None, name: str) -> list[int] | None:
    if v is None:
        return v
    if len(v) != 2 or v[0] > v[1]:
        raise ValueError(f"{name} must be [min, max] with min <= max")
    return v


class DealSelection(BaseModel):
    """The subset of Keepa's `/deal/` selection this system supports (extra keys rejected)."""

    model_config = ConfigDict(extra="forbid")

    domainId: int = 1
    priceTypes: list[int] = Field(default_factory=lambda: [2], min_length=1, max_length=1)
    includeCategories: list[int] = Field(default_factory=list, max_length=500)
    excludeCategories: list[int] = Field(default_factory=list, max_length=500)
    dateRange: int = Field(default=1, ge=0, le=3)
    sortType: int = Field(default=1)
    isFilterEnabled: bool = True
    isRangeEnabled: bool = True
    salesRankRange: list[int] | None = None
    currentRange: list[int] | None = None
    deltaPercentRange: list[int] | None = None
    deltaRange: list[int] | None = None
    minRating: int | None = Field(default=None, ge=-1, le=50)
    mustHaveAmazonOffer: bool | None = None
    mustNotHaveAmazonOffer: bool | None = None
    isLowest: bool | None = None
    isLowest90: bool | None = None
    singleVariation: bool | None = None
    hasReviews: bool | None = None
    filterErotic: bool | None = None
    titleSearch: str | None = Field(default=None, max_length=200)
    page: int | None = Field(default=None, ge=0)

    @field_validator("domainId")
    @classmethod
    def _domain(cls, v: int) -> int:
        if v not in KEEPA_DOMAINS.values():
            raise ValueError(f"must be one of {sorted(KEEPA_DOMAINS.values())}")
        return v

    @field_validator("priceTypes")
    @classmethod
    def _price_type(cls, v: list[int]) -> list[int]:
        if not 0 <= v[0] <= 35:
            raise ValueError("the one price type must be a csv index 0..35 (2 = used)")
        return v

    @field_validator("sortType")
    @classmethod
    def _sort(cls, v: int) -> int:
        if v not in (1, 2, 3, 4, -2, -3, -4):
            raise ValueError(
                "must be 1 (newest), 2 (delta), 3 (rank) or 4 (delta %), negative to invert 2-4"
            )
        return v

    @model_validator(mode="after")
    def _ranges(self) -> DealSelection:
        for name in ("salesRankRange", "currentRange", "deltaPercentRange", "deltaRange"):
            _range(getattr(self, name), name)
        if self.mustHaveAmazonOffer and self.mustNotHaveAmazonOffer:
            raise ValueError("mustHaveAmazonOffer and mustNotHaveAmazonOffer exclude each other")
        return self


def validate_selection(selection: dict[str, Any]) -> dict[str, Any]:
    """Return the normalised selection (no `page`, no unset keys) or raise DealSelectionError."""
    if not isinstance(selection, dict):
        raise DealSelectionError("the deal query must be a JSON object (Keepa /deal/ selection)")
    try:
        model = DealSelection.model_validate(selection)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc") or ()) or "selection"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise DealSelectionError(f"deal query field {loc}: {msg}") from None
    data = model.model_dump(exclude_none=True)
    data.pop("page", None)
    return data


def get_deal_selection(session: Session) -> dict[str, Any]:
    """The stored selection, or the books default when none was set (or it became invalid)."""
    row = session.get(SystemState, DEAL_SELECTION_KEY)
    if row and isinstance(row.value, dict):
        try:
            return validate_selection(row.value)
        except DealSelectionError:
            pass
    return validate_selection(dict(DEFAULT_SELECTION))


def set_deal_selection(session: Session, selection: dict[str, Any]) -> dict[str, Any]:
    """Validate and store the selection (flushes; the caller's session commits)."""
    clean = validate_selection(selection)
    row = session.get(SystemState, DEAL_SELECTION_KEY) or SystemState(key=DEAL_SELECTION_KEY)
    row.value = clean
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return clean


def selection_page(selection: dict[str, Any], page: int) -> dict[str, Any]:
    """A copy of the selection asking for one page (Keepa pages hold up to 150 deals)."""
    out = dict(selection)
    out["page"] = int(page)
    return out

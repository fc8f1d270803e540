"""The seller's deal search (`DealSearch`) and the SQL WHERE terms it stands for.

Unknown fields and out-of-range values are rejected with a message that says what is allowed.

Rule for the user's saved thresholds: `min_roi`, `min_profit` and `hide_gated` from the user's
settings apply whenever the search does not set `min_roi`, `min_profit` or `gated` itself
(pydantic's `model_fields_set` tells an explicit value from a default). Deals without a
profit under the user's settings are hidden unless `include_unprofitable` is true
(docs/domain.md "Money": they are kept, but hidden by default).

Money filters are written multiplied out over `money_sql`'s expressions (the user's settings
as bound parameters): parameterized SQLAlchemy Core, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import (
    and_,
    column,
    false,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.sql.elements import BinaryExpression, ColumnElement
from sqlmodel import Session

from tools.db import table_of
from tools.deals import money as m
from tools.deals.search.bounds import default_roi_floor
from tools.models import Deal, DealStatus, RestrictionStatus, User, UserRestriction
from tools.user_settings import UserSettings

D = table_of(Deal)
R = table_of(UserRestriction)
VISIBLE_STATUSES = (DealStatus.active.value, DealStatus.stale.value)

SeasonalityLabel = Literal["textbook", "exam_prep", "holiday", "summer", "year_round"]
Condition = Literal["like_new", "very_good", "good", "acceptable"]
GatedFilter = Literal["include", "exclude", "only_ungated"]
SortKey = Literal["roi", "profit", "margin", "rank", "drops", "newest", "percent_down", "price"]

SEASONALITY_LABELS: tuple[str, ...] = SeasonalityLabel.__args__  # type: ignore[attr-defined]
CONDITIONS: tuple[str, ...] = Condition.__args__  # type: ignore[attr-defined]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]


class DealSearch(BaseModel):
    """A seller's deal search: filters, sort and paging; money filters use the asking user's
    settings. The offline model's parser, an LLM's tool call and the chat UI all produce one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(
        default=None, max_length=200, description="words that must appear in the title or author"
    )
    author: str | None = Field(
        default=None, max_length=100, description="words that must appear in the author"
    )
    publisher: str | None = Field(
        default=None, max_length=100, description="words that must appear in the publisher"
    )
    category: str | None = Field(
        default=None, max_length=100, description="category name or path part, e.g. 'Medical Books'"
    )
    min_price: float | None = Field(default=None, ge=0, le=10_000, description="Price Now >= $")
    max_price: float | None = Field(default=None, ge=0, le=10_000, description="Price Now <= $")
    min_roi: float | None = Field(default=None, ge=-100, le=10_000, description="ROI >= %")
    max_roi: float | None = Field(default=None, ge=-100, le=10_000, description="ROI <= %")
    min_profit: float | None = Field(default=None, ge=-10_000, le=10_000, description="Profit >= $")
    max_profit: float | None = Field(default=None, ge=-10_000, le=10_000, description="Profit <= $")
    min_margin: float | None = Field(default=None, ge=-100, le=100, description="Margin >= %")
    max_margin: float | None = Field(default=None, ge=-100, le=100, description="Margin <= %")
    min_rank: int | None = Field(default=None, ge=1, le=50_000_000, description="sales rank >=")
    max_rank: int | None = Field(default=None, ge=1, le=50_000_000, description="sales rank <=")
    min_drops_30: int | None = Field(default=None, ge=0, le=1_000, description="rank drops, 30 d")
    min_drops_90: int | None = Field(default=None, ge=0, le=3_000, description="rank drops, 90 d")
    min_drops_365: int | None = Field(default=None, ge=0, le=10_000, description="drops, 365 d")
    seasonality: SeasonalityLabel | None = None
    in_peak_now: bool = Field(default=False, description="only items whose peak month is now")
    peak_month: int | None = Field(default=None, ge=1, le=12, description="peaks in this month")
    min_percent_down: float | None = Field(
        default=None, ge=0, le=100, description="at least this % below the 1yr. Avg."
    )
    gated: GatedFilter = Field(
        default="include",
        description="include | exclude (gated for "
        "me) | only_ungated (checked and not restricted for me)",
    )
    amazon_offer: bool | None = Field(default=None, description="Amazon on the listing or not")
    condition: Condition | None = None
    updated_within_hours: int | None = Field(default=None, ge=1, le=24 * 365)
    include_unprofitable: bool = Field(default=False, description="also show deals without profit")
    sort: SortKey = Field(
        default="roi",
        description="roi | profit | margin (highest first), rank (best first), drops (most "
        "first), newest, percent_down (most below average first), price (cheapest first)",
    )
    limit: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> DealSearch:
        for lo, hi in (
            ("min_price", "max_price"),
            ("min_roi", "max_roi"),
            ("min_profit", "max_profit"),
            ("min_margin", "max_margin"),
            ("min_rank", "max_rank"),
        ):
            a, b = getattr(self, lo), getattr(self, hi)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{lo} ({a}) must not exceed {hi} ({b})")
        return self

    def filters(self) -> dict[str, object]:
        """Only the fields that differ from the defaults (compact, for tool results and tests)."""
        return self.model_dump(exclude_defaults=True)


class DealSearchError(ValueError):
    """A query the search cannot run; the message says what is allowed."""


def validate_search(data: DealSearch | dict[str, Any]) -> DealSearch:
    """Validate a dict into a `DealSearch`, turning pydantic's errors into one readable message
    that lists the allowed fields (for unknown ones) and the allowed values/ranges."""
    if isinstance(data, DealSearch):
        return data
    try:
        return DealSearch.model_validate(data)
    except ValidationError as err:
        parts = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e.get("loc", ())) or "query"
            if e.get("type") == "extra_forbidden":
                parts.append(f"unknown field '{loc}'")
            else:
                parts.append(f"{loc}: {e.get('msg')} (got {e.get('input')!r})")
        allowed = ", ".join(DealSearch.model_fields)
        raise DealSearchError("; ".join(parts) + f". Allowed fields: {allowed}") from None


_FTS_TABLES: dict[str, bool] = {}  # engine url -> deal_fts exists (migration 0004)

_WORD = re.compile(r"\w", re.UNICODE)


def has_fts(session: Session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    key = str(bind.engine.url)
    if key not in _FTS_TABLES:
        _FTS_TABLES[key] = inspect(bind).has_table("deal_fts")
    return _FTS_TABLES[key]


def _fts_terms(text: str) -> list[str]:
    """Words as FTS5 prefix phrases ("bio" finds "Biology"); quotes doubled, so user text is
    always a string literal of the MATCH language, never syntax."""
    return ['"' + w.replace('"', '""') + '"*' for w in text.split()[:8] if _WORD.search(w)]


def _fts_filter(query: DealSearch) -> ColumnElement[bool] | None:
    """ "deal.rowid IN (FTS matches)", or false() when the words have no searchable letter."""
    match = fts_match(query)
    if match is None or not isinstance(match, BinaryExpression):
        return match
    return literal_column("deal.rowid").in_(select(FTS.c.rowid).where(match))


FTS = table("deal_fts", column("rowid"))


# the query's word fields and the deal_fts columns each one searches (migration 0014)
_FTS_COLUMNS = (
    ("text", "{title author}"),
    ("author", "author"),
    ("publisher", "publisher"),
    ("category", "category_path"),
)


def word_fields(query: DealSearch) -> bool:
    """Whether the query has any word filter (text, author, publisher, category)."""
    return any(getattr(query, name) for name, _ in _FTS_COLUMNS)


def fts_match(query: DealSearch) -> ColumnElement[bool] | None:
    """The FTS5 MATCH term (on deal_fts) of the query's word filters."""
    parts = []
    for name, columns in _FTS_COLUMNS:
        words = getattr(query, name)
        if not words:
            continue
        terms = _fts_terms(words)
        if not terms:
            return false()
        parts.append(f"{columns} : (" + " AND ".join(terms) + ")")
    if not parts:
        return None
    return literal_column("deal_fts").op("MATCH")(" AND ".join(parts))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _checked(user_id: int, status: int) -> Any:
    """ "This user has this gating status for the deal's ASIN": a correlated EXISTS that is one
    seek in ix_user_restriction_user_status_asin per deal row the query actually touches. An
    uncorrelated IN list would first materialize all of the user's checked ASINs (tens of
    thousands) on every search, even when the page needs only a few hundred rows."""
    return (
        select(literal(1))
        .where(R.c.user_id == user_id, R.c.status == status, R.c.asin == D.c.asin)
        .correlate(D)
        .exists()
    )


def effective_thresholds(query: DealSearch, settings: UserSettings) -> dict[str, Any]:
    explicit = query.model_fields_set
    min_roi = query.min_roi if "min_roi" in explicit else settings.min_roi
    min_profit = query.min_profit if "min_profit" in explicit else settings.min_profit
    gated = query.gated
    if "gated" not in explicit and settings.hide_gated:
        gated = "exclude"
    return {"min_roi": min_roi, "min_profit": min_profit, "gated": gated}


def where_terms(
    query: DealSearch,
    eff: dict[str, Any],
    money: m.MoneySQL,
    user: User | None,
    now: datetime,
    settings: UserSettings,
    fts: bool = False,
    prefilter: bool = True,
) -> list[ColumnElement[bool]]:
    """The WHERE terms of a search. `prefilter` adds the implied `roi_default` bound (same
    result set, it only lets SQL skip rows by index)."""
    c = D.c
    where: list[ColumnElement[bool]] = [c.status.in_(VISIBLE_STATUSES)]
    where += _word_terms(query, fts)
    if query.min_price is not None:
        where.append(c.price_now >= query.min_price)
    if query.max_price is not None:
        where.append(c.price_now <= query.max_price)
    where += _money_terms(query, eff, money, settings, prefilter)
    where += _market_terms(query, now)
    where += _gating_terms(eff, user)
    return where


def _word_terms(query: DealSearch, fts: bool) -> list[ColumnElement[bool]]:
    """Title/author words, author, publisher and the category: FTS5 prefix matches on SQLite
    with migrations 0004/0014, else ILIKE."""
    c = D.c
    where: list[ColumnElement[bool]] = []
    if fts and word_fields(query):
        # SQLite: words match word prefixes in title/author/publisher/category path
        where.append(_fts_filter(query))  # type: ignore[arg-type]
        return where
    if query.text:
        for word in query.text.split()[:8]:
            pattern = _like(word)
            where.append(
                or_(c.title.ilike(pattern, escape="\\"), c.author.ilike(pattern, escape="\\"))
            )
    for name in ("author", "publisher"):
        for word in (getattr(query, name) or "").split()[:8]:
            where.append(c[name].ilike(_like(word), escape="\\"))
    if query.category:
        pattern = _like(query.category)
        where.append(
            or_(c.category_path.ilike(pattern, escape="\\"), c.category.ilike(pattern, escape="\\"))
        )
    return where


def _money_terms(
    query: DealSearch,
    eff: dict[str, Any],
    money: m.MoneySQL,
    settings: UserSettings,
    prefilter: bool,
) -> list[ColumnElement[bool]]:
    """ROI, profit and margin bounds under the user's settings, and "profitable only".

    Written multiplied out (net = List at − fees, cost > 0 always):
      ROI >= r  <=>  net >= cost × (1 + r/100);  Profit >= x  <=>  net >= cost + x;
      Margin >= g  <=>  net − cost >= List at × g/100 (List at > 0).
    Same sets as comparing money.roi / money.profit / money.margin, with the cost computed
    once instead of three times per row: this halves the per-row work of a search.
    """
    c = D.c
    where: list[ColumnElement[bool]] = []
    net, cost = money.net, money.all_in_cost
    min_roi, min_profit = eff["min_roi"], eff["min_profit"]
    if min_roi is not None:
        where.append(net >= cost * (1.0 + min_roi / 100.0))
    if query.max_roi is not None:
        where.append(net <= cost * (1.0 + query.max_roi / 100.0))
    if min_profit is not None:
        where.append(net >= cost + min_profit)
    if query.max_profit is not None:
        where.append(net <= cost + query.max_profit)
    if query.min_margin is not None:
        where.append(and_(c.list_at > 0, net - cost >= c.list_at * (query.min_margin / 100.0)))
    if query.max_margin is not None:
        where.append(and_(c.list_at > 0, net - cost <= c.list_at * (query.max_margin / 100.0)))
    implied = (min_roi is not None and min_roi > 0) or (min_profit is not None and min_profit > 0)
    if not query.include_unprofitable and not implied:
        where.append(net > cost)  # Profit > 0
    floors = [v for v in (min_roi,) if v is not None]
    if not query.include_unprofitable or (min_profit is not None and min_profit > 0):
        floors.append(0.0)  # profit > 0 <=> ROI > 0
    if prefilter and floors:
        bound = default_roi_floor(settings, max(floors))
        if bound is not None:
            where.append(c.roi_default >= bound)
    return where


def _market_terms(query: DealSearch, now: datetime) -> list[ColumnElement[bool]]:
    """Rank, drops, season, percent down, Amazon, condition and freshness filters."""
    c = D.c
    where: list[ColumnElement[bool]] = []
    if query.min_rank is not None:
        where.append(c.sales_rank >= query.min_rank)
    if query.max_rank is not None:
        where.append(c.sales_rank <= query.max_rank)
    for days in (30, 90, 365):
        value = getattr(query, f"min_drops_{days}")
        if value is not None:
            where.append(c[f"rank_drops_{days}"] >= value)
    if query.seasonality is not None:
        where.append(c.seasonality == query.seasonality)
    for month in ([now.month] if query.in_peak_now else []) + (
        [query.peak_month] if query.peak_month is not None else []
    ):
        where.append(c.peak_mask.op("&")(1 << (month - 1)) != 0)
    if query.min_percent_down is not None:
        where.append(c.percent_down >= query.min_percent_down)
    if query.amazon_offer is not None:
        where.append(c.amazon_offer == query.amazon_offer)
    if query.condition is not None:
        where.append(c.condition == query.condition)
    if query.updated_within_hours is not None:
        where.append(c.updated_at >= now - timedelta(hours=query.updated_within_hours))
    return where


def _gating_terms(eff: dict[str, Any], user: User | None) -> list[ColumnElement[bool]]:
    """Hide deals gated for this user, or keep only those checked and not restricted."""
    if eff["gated"] == "include":
        return []
    if user is None or user.id is None:
        raise DealSearchError(
            f"gated='{eff['gated']}' needs a signed-in user (gating is per "
            "seller); use gated='include' without one"
        )
    where = [~_checked(user.id, RestrictionStatus.restricted)]
    if eff["gated"] == "only_ungated":  # checked for this user and not restricted
        where.append(_checked(user.id, RestrictionStatus.not_restricted))
    return where


def roi_value(money: m.MoneySQL) -> ColumnElement[Any]:
    """net / cost = 1 + ROI/100: sorts exactly like ROI, with less arithmetic per row. NULL
    when the cost is 0 (a $0 price and no fixed costs), as SQLite answers a division by zero;
    PostgreSQL would raise an error instead."""
    return money.net / func.nullif(money.all_in_cost, 0.0)


def order_by(query: DealSearch, money: m.MoneySQL) -> list[Any]:
    c = D.c
    key = {
        "roi": roi_value(money).desc(),
        "profit": money.profit.desc(),
        "margin": money.margin.desc(),
        "rank": c.sales_rank.asc(),
        "drops": c.rank_drops_30.desc(),
        "newest": c.updated_at.desc(),
        "percent_down": c.percent_down.desc(),
        "price": c.price_now.asc(),
    }[query.sort]
    return [key.nulls_last(), c.asin.asc()]

"""Search the deals table with a `DealQuery`, and read one deal in detail.

Money in filters and sorts is the asking user's: `money_sql` rebuilds cost, profit, ROI and
margin from the stored inputs with the user's settings as bound parameters, so one stored row
serves every user and a settings change needs no re-fetch. Everything is SQLAlchemy Core
(parameterized), on SQLite and PostgreSQL alike.

Rule for the user's saved thresholds: `min_roi`, `min_profit` and `hide_gated` from the user's
settings apply whenever the query does not set `min_roi`, `min_profit` or `gated` itself
(pydantic's `model_fields_set` tells an explicit value from a default). Deals without a
profit under the user's settings are hidden unless `include_unprofitable` is true
(docs/domain.md "Money": they are kept, but hidden by default).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    Table,
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
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BinaryExpression, ColumnElement
from sqlmodel import Session

from tools.deals import money as m
from tools.deals.query import DealQuery
from tools.models import (
    ROI_LEVELS,
    Deal,
    DealHistory,
    DealStatus,
    RestrictionStatus,
    User,
    UserRestriction,
    roi_level_index,
    roi_level_sql,
    utcnow,
)
from tools.user_settings import DEFAULT_SETTINGS, UserSettings, load_user_settings

D = Deal.__table__
R = UserRestriction.__table__
H = DealHistory.__table__
VISIBLE_STATUSES = (DealStatus.active.value, DealStatus.stale.value)


class DealQueryError(ValueError):
    """A query the search cannot run; the message says what is allowed."""


def parse_deal_query(data: DealQuery | dict[str, Any]) -> DealQuery:
    """Validate a dict into a `DealQuery`, turning pydantic's errors into one readable message
    that lists the allowed fields (for unknown ones) and the allowed values/ranges."""
    if isinstance(data, DealQuery):
        return data
    try:
        return DealQuery.model_validate(data)
    except ValidationError as err:
        parts = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e.get("loc", ())) or "query"
            if e.get("type") == "extra_forbidden":
                parts.append(f"unknown field '{loc}'")
            else:
                parts.append(f"{loc}: {e.get('msg')} (got {e.get('input')!r})")
        allowed = ", ".join(DealQuery.model_fields)
        raise DealQueryError("; ".join(parts) + f". Allowed fields: {allowed}") from None


class DealSummary(BaseModel):
    """One row of a search result; money under the asking user's settings."""

    asin: str
    title: str | None = None
    author: str | None = None
    category: str | None = None
    condition: str | None = None
    price_now: float | None = None
    price_now_source: str | None = None
    list_at: float | None = None
    all_in_cost: float | None = None
    amz_fees: float | None = None
    profit: float | None = None
    roi: float | None = None
    margin: float | None = None
    min_listing_price: float | None = None
    sales_rank: int | None = None
    rank_drops_30: int | None = None
    rank_drops_90: int | None = None
    rank_drops_365: int | None = None
    percent_down: float | None = None
    avg_1yr: float | None = None
    seasonality: str | None = None
    peak_months: list[int] = []
    deal_trust: float | None = None
    seller_quality: float | None = None
    amazon_offer: bool | None = None
    trend: str | None = None
    gated: str | None = None  # restricted | not_restricted | error | pending; None: no user
    updated_at: datetime | None = None


class SearchResult(BaseModel):
    total: int  # matching deals; a lower bound when total_capped (counting stops at the cap)
    total_capped: bool = False  # True: "total+ deals match" (at least TOTAL_CAP deals)
    items: list[DealSummary]
    query: dict[str, Any]  # the filters as asked (non-default fields)
    applied: dict[str, Any]  # thresholds actually applied, incl. the user's saved ones
    settings: dict[str, Any]  # the money settings the numbers use


class DealDetail(DealSummary):
    binding: str | None = None
    category_path: str | None = None
    publication_year: int | None = None
    image_url: str | None = None
    status: str | None = None
    offers_used: int | None = None
    offers_new: int | None = None
    offers_fba: int | None = None
    offers_fbm: int | None = None
    buy_box_amazon_share: float | None = None
    amazon_new_low: float | None = None
    rank_drops_180: int | None = None
    inferred_sales_count: int | None = None
    offer_drops_count: int | None = None
    seller_id: str | None = None
    trough_months: list[int] = []
    expected_trough_price: float | None = None
    referral_pct: float | None = None
    referral_min: float | None = None
    fba_fee: float | None = None
    fba_fee_source: str | None = None
    closing_fee: float | None = None
    keepa_last_update: datetime | None = None
    restriction_reason: str | None = None
    approval_url: str | None = None
    missing: dict[str, str] = {}
    history: dict[str, Any] = {}  # used_price / sales_rank / amazon_price / new_price series
    inferred_sales: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}


_SUMMARY_COLUMNS = ("asin", "title", "author", "category", "condition", "price_now",
                    "price_now_source", "list_at", "sales_rank", "rank_drops_30", "rank_drops_90",
                    "rank_drops_365", "percent_down", "avg_1yr", "seasonality", "peak_months",
                    "deal_trust", "seller_quality", "amazon_offer", "trend", "updated_at")


def _months(text: str | None) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()] if text else []


_FTS_TABLES: dict[str, bool] = {}  # engine url -> deal_fts exists (migration 0004)
_WORD = re.compile(r"\w", re.UNICODE)


def _has_fts(session: Session) -> bool:
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


def _fts_filter(query: DealQuery) -> ColumnElement[bool] | None:
    """"deal.rowid IN (FTS matches)", or false() when the words have no searchable letter."""
    match = _fts_match(query)
    if match is None or not isinstance(match, BinaryExpression):
        return match
    return literal_column("deal.rowid").in_(select(_FTS.c.rowid).where(match))


_FTS = table("deal_fts", column("rowid"))


def _fts_match(query: DealQuery) -> ColumnElement[bool] | None:
    """The FTS5 MATCH term (on deal_fts) of the query's text/category words."""
    parts = []
    if query.text:
        terms = _fts_terms(query.text)
        if not terms:
            return false()
        parts.append("{title author} : (" + " AND ".join(terms) + ")")
    if query.category:
        terms = _fts_terms(query.category)
        if not terms:
            return false()
        parts.append("category_path : (" + " AND ".join(terms) + ")")
    if not parts:
        return None
    return literal_column("deal_fts").op("MATCH")(" AND ".join(parts))  # type: ignore[no-any-return]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _checked(user_id: int, status: int) -> Any:
    """"This user has this gating status for the deal's ASIN": a correlated EXISTS that is one
    seek in ix_user_restriction_user_status_asin per deal row the query actually touches. An
    uncorrelated IN list would first materialize all of the user's checked ASINs (tens of
    thousands) on every search, even when the page needs only a few hundred rows."""
    return select(literal(1)).where(R.c.user_id == user_id, R.c.status == status,
                                    R.c.asin == D.c.asin).correlate(D).exists()


def _effective(query: DealQuery, settings: UserSettings) -> dict[str, Any]:
    explicit = query.model_fields_set
    min_roi = query.min_roi if "min_roi" in explicit else settings.min_roi
    min_profit = query.min_profit if "min_profit" in explicit else settings.min_profit
    gated = query.gated
    if "gated" not in explicit and settings.hide_gated:
        gated = "exclude"
    return {"min_roi": min_roi, "min_profit": min_profit, "gated": gated}


def default_roi_floor(settings: UserSettings, roi_floor: float) -> float | None:
    """A necessary bound on the stored default-settings ROI for "user ROI >= roi_floor".

    With cost = price × k + c (k = 1 + tax, c = prep + shipping, or prep alone when shipping
    is included) and net = List at − fees, ROI + 1 = net / cost. For price >= 0,
    cost_default / cost_user lies between the ratios of the k's and of the c's (a mediant), so
    1 + roi_user <= (1 + roi_default) × hi with hi the largest ratio. Hence
    roi_default >= (1 + floor) / hi − 1 is implied, and it lets SQL walk the
    (status, roi_default, ...) covering index instead of computing every row. None when no
    finite bound exists (e.g. the user's fixed costs are zero but the defaults' are not).
    """
    d = DEFAULT_SETTINGS
    ratios = [(1.0 + d.tax_pct / 100.0) / (1.0 + settings.tax_pct / 100.0)]
    fixed_costs = ((d.prep_fee + d.inbound_shipping, settings.prep_fee + settings.inbound_shipping),
                   (d.prep_fee, settings.prep_fee))
    for c_d, c_u in fixed_costs:
        if c_u > 0:
            ratios.append(c_d / c_u)
        elif c_d > 0:
            return None
    hi = max(ratios)
    return ((1.0 + roi_floor / 100.0) / hi - 1.0) * 100.0 - 1e-6


def _conditions(query: DealQuery, eff: dict[str, Any], money: m.MoneySQL, user: User | None,
                now: datetime, settings: UserSettings, fts: bool = False,
                prefilter: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE terms of a search. `prefilter` adds the implied `roi_default` bound (same
    result set, it only lets SQL skip rows by index)."""
    c = D.c
    where: list[ColumnElement[bool]] = [c.status.in_(VISIBLE_STATUSES)]
    if fts and (query.text or query.category):
        # SQLite with migration 0004: words match word prefixes in title/author/category path
        where.append(_fts_filter(query))  # type: ignore[arg-type]
    elif query.text:
        for word in query.text.split()[:8]:
            pattern = _like(word)
            where.append(or_(c.title.ilike(pattern, escape="\\"),
                             c.author.ilike(pattern, escape="\\")))
    if query.category and not fts:
        pattern = _like(query.category)
        where.append(or_(c.category_path.ilike(pattern, escape="\\"),
                         c.category.ilike(pattern, escape="\\")))
    if query.min_price is not None:
        where.append(c.price_now >= query.min_price)
    if query.max_price is not None:
        where.append(c.price_now <= query.max_price)
    # Money filters in multiplied-out form (net = List at − fees, cost > 0 always):
    #   ROI >= r  <=>  net >= cost × (1 + r/100);  Profit >= x  <=>  net >= cost + x;
    #   Margin >= g  <=>  net − cost >= List at × g/100 (List at > 0).
    # Same sets as comparing money.roi / money.profit / money.margin, with the cost computed
    # once instead of three times per row: this halves the per-row work of a search.
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
    implied = (min_roi is not None and min_roi > 0) or (min_profit is not None
                                                        and min_profit > 0)
    if not query.include_unprofitable and not implied:
        where.append(net > cost)  # Profit > 0
    floors = [v for v in (eff["min_roi"],) if v is not None]
    if not query.include_unprofitable or (eff["min_profit"] is not None
                                          and eff["min_profit"] > 0):
        floors.append(0.0)  # profit > 0 <=> ROI > 0
    if prefilter and floors:
        bound = default_roi_floor(settings, max(floors))
        if bound is not None:
            where.append(c.roi_default >= bound)
    if query.max_rank is not None:
        where.append(c.sales_rank <= query.max_rank)
    for days in (30, 90, 365):
        value = getattr(query, f"min_drops_{days}")
        if value is not None:
            where.append(c[f"rank_drops_{days}"] >= value)
    if query.seasonality is not None:
        where.append(c.seasonality == query.seasonality)
    if query.in_peak_now:
        where.append(c.peak_mask.op("&")(1 << (now.month - 1)) != 0)
    if query.peak_month is not None:
        where.append(c.peak_mask.op("&")(1 << (query.peak_month - 1)) != 0)
    if query.min_percent_down is not None:
        where.append(c.percent_down >= query.min_percent_down)
    if query.amazon_offer is not None:
        where.append(c.amazon_offer == query.amazon_offer)
    if query.condition is not None:
        where.append(c.condition == query.condition)
    if query.updated_within_hours is not None:
        where.append(c.updated_at >= now - timedelta(hours=query.updated_within_hours))
    if eff["gated"] != "include":
        if user is None or user.id is None:
            raise DealQueryError(f"gated='{eff['gated']}' needs a signed-in user (gating is per "
                                 "seller); use gated='include' without one")
        where.append(~_checked(user.id, RestrictionStatus.restricted))
        if eff["gated"] == "only_ungated":  # checked for this user and not restricted
            where.append(_checked(user.id, RestrictionStatus.not_restricted))
    return where


def _order(query: DealQuery, money: m.MoneySQL) -> list[Any]:
    c = D.c
    # net / cost = 1 + ROI/100 sorts exactly like ROI, with less arithmetic per row
    key = {"roi": (money.net / money.all_in_cost).desc(), "profit": money.profit.desc(),
           "margin": money.margin.desc(), "rank": c.sales_rank.asc(),
           "drops": c.rank_drops_30.desc(), "newest": c.updated_at.desc(),
           "percent_down": c.percent_down.desc()}[query.sort]
    return [key.nulls_last(), c.asin.asc()]


def _gated_status(session: Session, user: User | None, asins: list[str]) -> dict[str, str]:
    """Per ASIN for this user: restricted wins over error over not_restricted; else pending."""
    if user is None or user.id is None or not asins:
        return {}
    statuses = [int(x) for x in RestrictionStatus]
    # status IN (...) lets SQLite seek (user, status, asin) in the covering index directly
    rows = session.execute(select(R.c.asin, R.c.status).where(
        R.c.user_id == user.id, R.c.status.in_(statuses), R.c.asin.in_(asins))).all()
    priority = {int(RestrictionStatus.restricted): 3, int(RestrictionStatus.error): 2,
                int(RestrictionStatus.not_restricted): 1}
    names = {int(RestrictionStatus.restricted): "restricted",
             int(RestrictionStatus.error): "error",
             int(RestrictionStatus.not_restricted): "not_restricted"}
    best: dict[str, int] = {}
    for asin, status in rows:
        current = priority[best[asin]] if asin in best else 0
        if priority.get(int(status), 0) > current:
            best[asin] = int(status)
    return {a: names[best[a]] if a in best else "pending" for a in asins}


@compiles(Table, "sqlite")
def _table_with_sqlite_hint(element: Table, compiler: Any, fromhints: Any = None,
                            **kw: Any) -> str:
    """Render `with_hint(table, "INDEXED BY ix", "sqlite")` (SQLAlchemy's SQLite compiler
    drops FROM hints). Without ANALYZE statistics SQLite prefers any equality term (status =
    ?, seasonality = ?) over the index that lets a sorted walk stop after a page, so the
    search names its index; other dialects never see the hint."""
    text = compiler.visit_table(element, fromhints=None, **kw)
    hint = (fromhints or {}).get(element)
    return f"{text} {hint}" if hint else text


def _via(stmt: Any, index: str) -> Any:
    return stmt.with_hint(D, f"INDEXED BY {index}", "sqlite")


_KEY_INDEX = {"roi": "ix_deal_roi_cover", "profit": "ix_deal_profit_cover",
              "margin": "ix_deal_margin_cover", "rank": "ix_deal_rank_asin",
              "drops": "ix_deal_drops_asin", "newest": "ix_deal_updated_asin",
              "percent_down": "ix_deal_percent_down_asin"}
TOTAL_CAP = 1000  # count at most this many matches; above it the answer is "1000+"
_SLACK = 1e-6  # float headroom of the bounds below (values are dollars and percent)
_PLAIN_SORTS = {"rank": ("sales_rank", False), "drops": ("rank_drops_30", True),
                "newest": ("updated_at", True), "percent_down": ("percent_down", True)}


def _cost_terms(settings: UserSettings) -> tuple[float, float, list[tuple[float, float]]]:
    """(k_user, k_default, [(c_user, c_default)] per shipping mode): cost = price × k + c."""
    d = DEFAULT_SETTINGS
    k_u, k_d = 1.0 + settings.tax_pct / 100.0, 1.0 + d.tax_pct / 100.0
    fixed = [(settings.prep_fee + settings.inbound_shipping, d.prep_fee + d.inbound_shipping),
             (settings.prep_fee, d.prep_fee)]  # shipping not included / included
    return k_u, k_d, fixed


def default_profit_floor(settings: UserSettings, profit_floor: float,
                         max_price: float | None) -> float | None:
    """A necessary bound on the stored `profit_default` for "user Profit >= profit_floor".

    Per row, profit_default − profit_user = cost_user − cost_default = price × (k_u − k_d) +
    (c_u − c_d). With 0 <= price <= max_price that is at least min(0, k_u − k_d) × max_price
    + min over the shipping modes of (c_u − c_d). None when the user's tax is below the
    default's and no price bound is known.
    """
    k_u, k_d, fixed = _cost_terms(settings)
    gap = min(c_u - c_d for c_u, c_d in fixed)
    if k_u < k_d:
        if max_price is None:
            return None
        gap += (k_u - k_d) * max_price
    return profit_floor + gap - _SLACK * (1.0 + abs(profit_floor) + abs(gap))


def default_margin_floor(settings: UserSettings, margin_floor: float) -> float | None:
    """A necessary bound on the stored `margin_default` for "user Margin >= margin_floor" (%).

    Per row (List at L > 0, fees >= 0, price p >= 0, v = margin_floor / 100 <= 1):
    margin_default − margin_user = (p × (k_u − k_d) + (c_u − c_d)) / L. From margin_user >= v,
    cost_user = p × k_u + c_u <= (1 − v) × L, so p / L <= (1 − v) / k_u and, for c_u > 0,
    1 / L <= (1 − v) / c_u. The negative parts of both terms are therefore at least
    (k_u − k_d) × (1 − v) / k_u and (c_u − c_d) × (1 − v) / c_u. None when no finite bound
    exists (c_u = 0 with c_d > 0) or v > 1 (no deal has such a margin anyway).
    """
    v = margin_floor / 100.0
    if v > 1.0:
        return None
    k_u, k_d, fixed = _cost_terms(settings)
    gap = min(0.0, (k_u - k_d) * (1.0 - v) / k_u)
    worst_c = 0.0
    for c_u, c_d in fixed:
        if c_u - c_d < 0:
            if c_u <= 0:
                return None
            worst_c = min(worst_c, (c_u - c_d) * (1.0 - v) / c_u)
    return (v + gap + worst_c) * 100.0 - _SLACK * (1.0 + abs(margin_floor))


def roi_level_choice(settings: UserSettings
                     ) -> tuple[tuple[float, float], float, float] | None:
    """The ROI key level for this user's costs, with (r_min, r_max): bounds of r below.

    For a row in shipping mode m (price p >= 0, cost_user = p × k + c_m with k = 1 + tax,
    K_m = c_m / k) and a level with constant L_m, the stored key is net / (p + L_m) and the
    user's sort value is u = net / cost_user = key × r / k with r = (p + L_m) / (p + K_m).
    For p >= 0, r lies between 1 and L_m / K_m (it moves monotonically from L_m / K_m at p = 0
    towards 1), so across both modes r_min <= r <= r_max with r_min = min(1, L_m / K_m) and
    r_max = max(1, L_m / K_m). The best level has the smallest r_max / r_min (the key then
    orders rows nearly like the user's ROI). None when the user's fixed costs are zero in a
    mode (r is unbounded there).
    """
    k = 1.0 + settings.tax_pct / 100.0
    fixed = ((settings.prep_fee + settings.inbound_shipping) / k, settings.prep_fee / k)
    if min(fixed) <= 0:
        return None
    best: tuple[tuple[float, float], float, float] | None = None
    for level in ROI_LEVELS:
        ratios = [lvl / k_m for lvl, k_m in zip(level, fixed, strict=True)]
        r_min, r_max = min(1.0, *ratios), max(1.0, *ratios)
        if best is None or r_max / r_min < best[2] / best[1]:
            best = (level, r_min, r_max)
    return best


def roi_level_floor(settings: UserSettings, r_min: float, r_max: float, floor: float) -> float:
    """A necessary bound on the level key for "user value u = net / cost_user >= floor".

    key = u × k / r (roi_level_choice) with k > 0 and r in [r_min, r_max], r > 0. If
    floor > 0: u >= floor > 0 gives key >= floor × k / r >= floor × k / r_max. If floor <= 0:
    for u >= 0 the key is >= 0 >= floor × k / r_min, and for floor <= u < 0,
    key = u × k / r >= floor × k / r >= floor × k / r_min. The slack absorbs float rounding.
    """
    k = 1.0 + settings.tax_pct / 100.0
    bound = floor * k / (r_max if floor > 0 else r_min)
    return bound - 1e-9 * (1.0 + abs(bound))


def _money_window(session: Session, query: DealQuery, where: list[ColumnElement[bool]],
                  money: m.MoneySQL, settings: UserSettings
                  ) -> tuple[ColumnElement[bool], str | None] | None:
    """An extra WHERE term that keeps the page of a money sort exactly the same but lets SQL
    read only a narrow slice of an index instead of computing every match, and the index to
    walk for it (None: let the planner choose).

    Pass 1 walks a key that orders rows nearly like the user's value (ROI: the expression
    index of the nearest fixed-cost level; profit/margin: the stored default money) and takes
    the first K = offset + limit matches with the user's own sort value. If fewer than K match
    at all, those are all the matches. Otherwise at least K deals reach V = the smallest of
    those values, so the true top K all have value >= V, and the bound functions above turn
    "user value >= V" into a necessary "key >= B". None: no safe bound (the caller runs the
    plain query).
    """
    level = roi_level_choice(settings) if query.sort == "roi" else None
    if level is not None:
        key: ColumnElement[Any] = literal_column(roi_level_sql(level[0]))
        index = roi_level_index(level[0])
    else:
        key = {"roi": D.c.roi_default, "profit": D.c.profit_default,
               "margin": D.c.margin_default}[query.sort]
        index = _KEY_INDEX[query.sort]
    user_value = {"roi": money.net / money.all_in_cost, "profit": money.profit,
                  "margin": money.margin}[query.sort]
    k = query.offset + query.limit
    if k > 1000:  # deep pages: the candidate walk would cost as much as the plain query
        return None
    rows = session.execute(_via(select(D.c.asin, user_value).where(*where)
                                .order_by(key.desc()).limit(k), index)).all()
    if len(rows) < k:
        return (D.c.asin.in_([a for a, _ in rows]) if rows else false()), None
    values = [v for _, v in rows]
    if any(v is None for v in values):
        return None
    floor = float(min(values))
    bound: float | None
    if level is not None:
        bound = roi_level_floor(settings, level[1], level[2], floor)
    elif query.sort == "roi":  # value = net / cost = 1 + ROI / 100
        bound = default_roi_floor(settings, (floor - 1.0) * 100.0) if floor > 0 else None
    elif query.sort == "profit":
        max_price = query.max_price
        if max_price is None:
            max_price = session.execute(select(func.max(D.c.price_now))).scalar()
        bound = default_profit_floor(settings, floor, max_price)
    else:
        bound = default_margin_floor(settings, floor)
    return None if bound is None else (key >= bound, index)


def _plain_page(session: Session, query: DealQuery, where: list[ColumnElement[bool]]
                ) -> list[str]:
    """A page sorted by a stored column, NULLs last: the non-NULL part in index order (the
    walk stops after offset + limit matches), then the NULL part by ASIN if the page has room.
    Same rows and order as ORDER BY col NULLS LAST, asin."""
    name, desc = _PLAIN_SORTS[query.sort]
    col = D.c[name]
    key = col.desc() if desc else col.asc()
    asins = list(session.execute(_via(select(D.c.asin).where(*where, col.isnot(None))
                                      .order_by(key, D.c.asin.asc())
                                      .limit(query.limit).offset(query.offset),
                                      _KEY_INDEX[query.sort])).scalars())
    if len(asins) == query.limit:
        return asins
    if asins:
        skip = 0  # the non-NULL part ended inside this page
    else:  # the page starts past the non-NULL part: how far past?
        counted = select(literal(1)).where(*where, col.isnot(None)).limit(query.offset).subquery()
        skip = query.offset - session.execute(select(func.count()).select_from(counted)
                                              ).scalar_one()
    nulls = session.execute(select(D.c.asin).where(*where, col.is_(None))
                            .order_by(D.c.asin.asc()).limit(query.limit - len(asins))
                            .offset(skip)).scalars()
    return asins + list(nulls)


def _count(session: Session, where: list[ColumnElement[bool]], cap: int,
           fts_driven: bool = False, season_driven: bool = False) -> tuple[int, bool]:
    """Matches, counting at most cap + 1 rows: (cap, True) means "more than cap". The walk goes
    down the covering roi_default index, where the user's ROI/profit floors match densely.
    With an FTS term in `where` (`fts_driven`) it goes through the deal_fts matches instead,
    one rowid seek each (see _fts_driven): the words thin out rows far more than any other
    filter, and walking the index would test ~cap / (share of matches) entries."""
    hits = select(literal(1)).where(*where)
    if fts_driven:
        hits = _fts_driven(hits)
    elif season_driven:
        hits = _via(hits, SEASON_INDEX)
    else:
        hits = _via(hits.order_by(D.c.roi_default.desc()), "ix_deal_roi_cover")
    sub = hits.limit(cap + 1).subquery()
    n = int(session.execute(select(func.count()).select_from(sub)).scalar_one())
    return (cap, True) if n > cap else (n, False)


def _fts_driven(stmt: Any) -> Any:
    """Read deal only by rowid from the materialized deal_fts match list ("deal.rowid IN
    (SELECT rowid FROM deal_fts WHERE MATCH)", the list is built once). NOT INDEXED keeps
    SQLite from starting at another index instead (seasonality = ?, category = ?): it once
    chose that for a deal_fts JOIN deal and re-ran the whole MATCH for every one of ~20,000
    seasonality rows (10 s). Rowid lookups stay allowed under NOT INDEXED."""
    return stmt.with_hint(D, "NOT INDEXED", "sqlite")


FTS_DRIVE_MAX = 2000  # at most this many word matches: sort them directly (see _fts_match_count)


def _fts_match_count(session: Session, match: ColumnElement[bool], cap: int) -> int:
    """How many deals the words match, counting at most cap + 1 (FTS index pages only, no deal
    rows: about a millisecond). Few matches: reading and sorting those rows beats walking a
    sort index past every non-matching entry to fill a page (the walk reads the whole index
    when fewer than a page match)."""
    hits = select(_FTS.c.rowid).where(match).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(hits)).scalar_one())


SEASON_INDEX = "ix_deal_season_peak"


def _season_match_count(session: Session, query: DealQuery, now: datetime, cap: int) -> int:
    """How many deals have the asked seasonality (and peak month), counting at most cap + 1
    through its index. Few: sort just those rows (same reason as _fts_match_count: "exam prep
    in season now" matched nothing in November, and the ROI-index walk read all 100,000
    entries to find that out, 750 ms)."""
    terms = [D.c.seasonality == query.seasonality]
    for month in ([now.month] if query.in_peak_now else []) + (
            [query.peak_month] if query.peak_month else []):
        terms.append(D.c.peak_mask.op("&")(1 << (month - 1)) != 0)
    hits = _via(select(literal(1)).where(*terms), SEASON_INDEX).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(hits)).scalar_one())


def _page_asins(session: Session, query: DealQuery, eff: dict[str, Any], money: m.MoneySQL,
                user: User | None, now: datetime, settings: UserSettings, fts: bool,
                few_words: bool = False, few_season: bool = False,
                ) -> tuple[list[str], list[ColumnElement[bool]]]:
    """The page's ASINs in order, and the WHERE terms (with prefilter) for counting.
    `few_words`: the FTS words match at most FTS_DRIVE_MAX deals, so the page is the
    straightforward ORDER BY over just those rows (no index walk)."""
    where = _conditions(query, eff, money, user, now, settings, fts=fts)
    plain = _conditions(query, eff, money, user, now, settings, fts=fts, prefilter=False)
    if few_words or few_season:
        page = (select(D.c.asin).where(*plain).order_by(*_order(query, money))
                .limit(query.limit).offset(query.offset))
        page = _fts_driven(page) if few_words else _via(page, SEASON_INDEX)
        return list(session.execute(page).scalars()), where
    if query.sort in _PLAIN_SORTS:
        return _plain_page(session, query, plain), where
    # only the roi_default index holds roi_default: elsewhere its prefilter costs a row read
    walk = where if query.sort == "roi" and roi_level_choice(settings) is None else plain
    window = _money_window(session, query, walk, money, settings)
    page = select(D.c.asin).where(*walk).order_by(*_order(query, money))
    if window is not None:
        term, index = window
        page = page.where(term)
        if index is not None:
            page = _via(page, index)  # key >= bound: a narrow index range
    page = page.limit(query.limit).offset(query.offset)
    return list(session.execute(page).scalars()), where


def _reference_page(session: Session, query: DealQuery, eff: dict[str, Any],
                    money: m.MoneySQL, user: User | None, now: datetime,
                    settings: UserSettings, fts: bool) -> tuple[list[str], int]:
    """The straightforward search (one ORDER BY over every match, exact count): what the fast
    path must equal. Used by tests only."""
    where = _conditions(query, eff, money, user, now, settings, fts=fts, prefilter=False)
    page = (select(D.c.asin).where(*where).order_by(*_order(query, money))
            .limit(query.limit).offset(query.offset))
    total = session.execute(select(func.count()).select_from(D).where(*where)).scalar_one()
    return list(session.execute(page).scalars()), int(total)


def search_deals(session: Session, query: DealQuery | dict[str, Any], user: User | None, *,
                 now: datetime | None = None) -> SearchResult:
    """Deals matching `query`, money and thresholds under `user`'s settings (defaults if None).

    `total` counts matches up to TOTAL_CAP (or the end of the page, if later); beyond that
    `total_capped` is true and `total` is a lower bound ("1000+ deals match")."""
    query = parse_deal_query(query)
    now = now or utcnow()
    settings = load_user_settings(user)
    money = m.money_sql(settings)
    eff = _effective(query, settings)
    fts = _has_fts(session)
    # Plan by selectivity: a text/category search whose words match few deals reads just
    # those rows; otherwise two steps: pick the page's ASINs (index walks that stop early, see
    # _money_window and _plain_page), then fetch the full rows of that page alone.
    match = _fts_match(query) if fts else None
    words = isinstance(match, BinaryExpression)
    few_words = words and _fts_match_count(session, match, FTS_DRIVE_MAX) <= FTS_DRIVE_MAX
    few_season = (not words and query.seasonality is not None and
                  _season_match_count(session, query, now, FTS_DRIVE_MAX) <= FTS_DRIVE_MAX)
    asins, where = _page_asins(session, query, eff, money, user, now, settings, fts,
                               few_words=few_words, few_season=few_season)
    capped = False
    if len(asins) < query.limit and (asins or query.offset == 0):
        total = query.offset + len(asins)  # a short page is the last one: no count scan
    else:
        cap = max(TOTAL_CAP, query.offset + query.limit)
        total, capped = _count(session, where, cap, fts_driven=words, season_driven=few_season)
    rows = []
    if asins:
        cols = [D.c[name] for name in _SUMMARY_COLUMNS] + [
            money.all_in_cost.label("all_in_cost"), money.amz_fees.label("amz_fees"),
            money.profit.label("profit"), money.roi.label("roi"), money.margin.label("margin"),
            money.min_listing_price.label("min_listing_price")]
        found = {r["asin"]: r for r in
                 session.execute(select(*cols).where(D.c.asin.in_(asins))).mappings()}
        rows = [found[a] for a in asins if a in found]
    gated = _gated_status(session, user, [r["asin"] for r in rows])
    items = []
    for r in rows:
        data = dict(r)
        data["peak_months"] = _months(data["peak_months"])
        data["gated"] = gated.get(data["asin"]) if user is not None else None
        items.append(DealSummary.model_validate(data))
    return SearchResult(total=int(total), total_capped=capped, items=items,
                        query=query.filters(),
                        applied={k: v for k, v in eff.items() if v is not None},
                        settings=settings.model_dump(
                            include={"tax_pct", "prep_fee", "inbound_shipping", "markup_pct"}))


def get_deal_detail(session: Session, asin: str, user: User | None) -> DealDetail | None:
    """Everything about one deal: metrics, money under the user's settings, gating for the
    user, chart series (used price, sales rank, Amazon and new price), inferred sales and the
    reasons for any empty field. None when the ASIN is unknown."""
    asin = (asin or "").strip().upper()
    if not asin or len(asin) > 10 or not asin.isalnum():
        raise DealQueryError(f"'{asin}' is not an ASIN (10 letters/digits, e.g. 0134685997)")
    row = session.execute(select(D).where(D.c.asin == asin)).mappings().first()
    if row is None:
        return None
    settings = load_user_settings(user)
    inputs = m.MoneyInputs(row["price_now"], row["list_at"], row["referral_pct"],
                           row["referral_min"], row["fba_fee"], row["closing_fee"],
                           bool(row["shipping_included"]))
    money = m.compute_money(inputs, settings)
    data = {k: v for k, v in row.items() if k in DealDetail.model_fields}
    data.update(peak_months=_months(row["peak_months"]),
                trough_months=_months(row["trough_months"]),
                all_in_cost=money.all_in_cost, amz_fees=money.amz_fees, profit=money.profit,
                roi=money.roi, margin=money.margin, min_listing_price=money.min_listing_price)
    missing = dict(row["missing"] or {})
    for name in ("all_in_cost", "amz_fees", "profit", "roi", "margin", "min_listing_price"):
        if name in money.missing:
            missing.setdefault(name, money.missing[name])
        else:
            missing.pop(name, None)
    data["missing"] = missing
    data["settings"] = settings.model_dump()
    hist = session.execute(select(H).where(H.c.asin == asin)).mappings().first()
    if hist is not None:
        data["history"] = {k: hist[k] for k in ("used_price", "sales_rank", "amazon_price",
                                                "new_price") if hist[k]}
        data["inferred_sales"] = hist["inferred_sales"] or []
    if user is not None:
        data["gated"] = _gated_status(session, user, [asin]).get(asin)
        restr = session.execute(select(R.c.reason_code, R.c.approval_url).where(
            R.c.user_id == user.id, R.c.asin == asin,
            R.c.status == RestrictionStatus.restricted)).first()
        if restr is not None:
            data["restriction_reason"], data["approval_url"] = restr
    return DealDetail.model_validate(data)

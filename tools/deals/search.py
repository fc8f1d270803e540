"""Search the deals table with a `DealQuery`, and read one deal in detail.

Money in filters and sorts is the asking user's: `money_sql` rebuilds cost, profit, ROI and
margin from the stored inputs with the user's settings as bound parameters, so one stored row
serves every user and a settings change needs no re-fetch. Everything is SQLAlchemy Core
(parameterized), on SQLite and PostgreSQL alike.

Rule for the user's saved thresholds: `min_roi`, `min_profit` and `hide_gated` from the user's
settings apply whenever the query does not set `min_roi`, `min_profit` or `gated` itself
(pydantic's `model_fields_set` tells an explicit value from a default). Deals without a
profit under the user's settings are hidden unless `include_unprofitable` is true
(DOMAIN.md: they are kept, but hidden by default).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import and_, column, false, func, inspect, literal_column, or_, select, table
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from tools.deals import money as m
from tools.deals.query import DealQuery
from tools.models import (
    Deal,
    DealHistory,
    DealStatus,
    RestrictionStatus,
    User,
    UserRestriction,
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
    total: int
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
    fts = table("deal_fts", column("rowid"))
    match = literal_column("deal_fts").op("MATCH")(" AND ".join(parts))
    return literal_column("deal.rowid").in_(select(fts.c.rowid).where(match))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _checked(user_id: int, status: int) -> Any:
    """ASINs with this gating status for the user: an uncorrelated IN-subquery, which SQLite
    and PostgreSQL evaluate once (ephemeral index / hashed subplan) instead of per deal row."""
    return select(R.c.asin).where(R.c.user_id == user_id, R.c.status == status)


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
                now: datetime, settings: UserSettings, fts: bool = False
                ) -> list[ColumnElement[bool]]:
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
    if floors:
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
        restricted = _checked(user.id, RestrictionStatus.restricted)
        where.append(D.c.asin.not_in(restricted))
        if eff["gated"] == "only_ungated":  # checked for this user and not restricted
            where.append(D.c.asin.in_(_checked(user.id, RestrictionStatus.not_restricted)))
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


def search_deals(session: Session, query: DealQuery | dict[str, Any], user: User | None, *,
                 now: datetime | None = None) -> SearchResult:
    """Deals matching `query`, money and thresholds under `user`'s settings (defaults if None)."""
    query = parse_deal_query(query)
    now = now or utcnow()
    settings = load_user_settings(user)
    money = m.money_sql(settings)
    eff = _effective(query, settings)
    where = _conditions(query, eff, money, user, now, settings, fts=_has_fts(session))
    # Two steps: pick the page's ASINs (filters and sort only touch columns of the covering
    # index ix_deal_visible_roi, so SQLite never reads whole rows for the candidates), then
    # fetch the full rows of that page alone.
    page = (select(D.c.asin).where(*where).order_by(*_order(query, money))
            .limit(query.limit).offset(query.offset))
    asins = list(session.execute(page).scalars())
    if len(asins) < query.limit and (asins or query.offset == 0):
        total = query.offset + len(asins)  # a short page is the last one: no count scan
    else:
        total = session.execute(select(func.count()).select_from(D).where(*where)).scalar_one()
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
    return SearchResult(total=int(total), items=items, query=query.filters(),
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

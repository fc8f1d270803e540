"""Search the deals table with a `DealSearch`, and read one deal in detail.

Money in results is the asking user's: `money_sql` / `compute_money` rebuild cost, profit, ROI
and margin from the stored inputs with the user's settings, so one stored row serves every
user and a settings change needs no re-fetch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from tools.db import table_of
from tools.deals import money as m
from tools.deals.search.filters import (
    D,
    DealSearch,
    DealSearchError,
    R,
    effective_thresholds,
    validate_search,
)
from tools.deals.search.models import (
    LISTING_COLUMNS,
    USER_MONEY,
    DealDetail,
    DealSummary,
    SearchResult,
    month_list,
)
from tools.deals.search.planner import plan_page
from tools.models import DealHistory, RestrictionStatus, User, utcnow
from tools.user_settings import load_user_settings

H = table_of(DealHistory)
# what compute_money derives for a detail: the user's money and the fees it used
_MONEY_RESULTS = (*USER_MONEY, "amz_fees")


def search_deals(
    session: Session,
    query: DealSearch | dict[str, Any],
    user: User | None,
    *,
    now: datetime | None = None,
) -> SearchResult:
    """Deals matching `query`, money and thresholds under `user`'s settings (defaults if None).

    `total` counts matches up to TOTAL_CAP (or the end of the page, if later); beyond that
    `total_capped` is true and `total` is a lower bound ("1000+ deals match")."""
    query = validate_search(query)
    now = now or utcnow()
    settings = load_user_settings(user)
    money = m.money_sql(settings)
    eff = effective_thresholds(query, settings)
    # two steps: pick the page's ASINs (the planner), then fetch the full rows of that page
    asins, total, capped = plan_page(session, query, eff, money, user, now, settings)
    rows = []
    if asins:
        cols = [D.c[name] for name in LISTING_COLUMNS] + [
            getattr(money, name).label(name) for name in USER_MONEY
        ]
        found = {
            r["asin"]: r
            for r in session.execute(select(*cols).where(D.c.asin.in_(asins))).mappings()
        }
        rows = [found[a] for a in asins if a in found]
    gated = gated_status(session, user, [r["asin"] for r in rows])
    items = []
    for r in rows:
        data = dict(r)
        data["peak_months"] = month_list(data["peak_months"])
        data["gated"] = gated.get(data["asin"]) if user is not None else None
        items.append(DealSummary.model_validate(data))
    return SearchResult(
        total=int(total),
        total_capped=capped,
        items=items,
        query=query.filters(),
        applied={k: v for k, v in eff.items() if v is not None},
        settings=settings.model_dump(
            include={"tax_pct", "prep_fee", "inbound_shipping", "markup_pct"}
        ),
    )


def get_deal_detail(session: Session, asin: str, user: User | None) -> DealDetail | None:
    """Everything about one deal: metrics, money under the user's settings, gating for the
    user, chart series (used price, sales rank, Amazon and new price), inferred sales and the
    reasons for any empty field. None when the ASIN is unknown."""
    asin = (asin or "").strip().upper()
    if not asin or len(asin) > 10 or not asin.isalnum():
        raise DealSearchError(f"'{asin}' is not an ASIN (10 letters/digits, e.g. 0134685997)")
    row = session.execute(select(D).where(D.c.asin == asin)).mappings().first()
    if row is None:
        return None
    settings = load_user_settings(user)
    inputs = m.MoneyInputs(
        row["price_now"],
        row["list_at"],
        row["referral_pct"],
        row["referral_min"],
        row["fba_fee"],
        row["closing_fee"],
        bool(row["shipping_included"]),
    )
    money = m.compute_money(inputs, settings)
    data = {k: v for k, v in row.items() if k in DealDetail.model_fields}
    data.update(
        peak_months=month_list(row["peak_months"]),
        trough_months=month_list(row["trough_months"]),
        **{name: getattr(money, name) for name in _MONEY_RESULTS},
    )
    missing = dict(row["missing"] or {})
    for name in _MONEY_RESULTS:
        if name in money.missing:
            missing.setdefault(name, money.missing[name])
        else:
            missing.pop(name, None)
    data["missing"] = missing
    data["settings"] = settings.model_dump()
    hist = session.execute(select(H).where(H.c.asin == asin)).mappings().first()
    if hist is not None:
        data["history"] = {
            k: hist[k] for k in ("used_price", "sales_rank", "amazon_price", "new_price") if hist[k]
        }
        data["inferred_sales"] = hist["inferred_sales"] or []
    if user is not None:
        data["gated"] = gated_status(session, user, [asin]).get(asin)
        restr = session.execute(
            select(R.c.reason_code, R.c.approval_url).where(
                R.c.user_id == user.id, R.c.asin == asin, R.c.status == RestrictionStatus.restricted
            )
        ).first()
        if restr is not None:
            data["restriction_reason"], data["approval_url"] = restr
    return DealDetail.model_validate(data)


def gated_status(session: Session, user: User | None, asins: list[str]) -> dict[str, str]:
    """Per ASIN for this user: restricted wins over error over not_restricted; else pending."""
    if user is None or user.id is None or not asins:
        return {}
    statuses = [int(x) for x in RestrictionStatus]
    # status IN (...) lets SQLite seek (user, status, asin) in the covering index directly
    rows = session.execute(
        select(R.c.asin, R.c.status).where(
            R.c.user_id == user.id, R.c.status.in_(statuses), R.c.asin.in_(asins)
        )
    ).all()
    priority = {
        int(RestrictionStatus.restricted): 3,
        int(RestrictionStatus.error): 2,
        int(RestrictionStatus.not_restricted): 1,
    }
    names = {
        int(RestrictionStatus.restricted): "restricted",
        int(RestrictionStatus.error): "error",
        int(RestrictionStatus.not_restricted): "not_restricted",
    }
    best: dict[str, int] = {}
    for asin, status in rows:
        current = priority[best[asin]] if asin in best else 0
        if priority.get(int(status), 0) > current:
            best[asin] = int(status)
    return {a: names[best[a]] if a in best else "pending" for a in asins}

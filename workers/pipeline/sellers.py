"""Seller quality: look up the Price Now sellers of freshly fetched offers on Keepa /seller/.

docs/domain.md "Deal analytics" scores a deal's seller by the Wilson lower bound of the winning
seller's rating (the "optimal" preset asks for seller >= 5/10). Only an offers fetch names that
seller, and Keepa charges 1 token per seller looked up, so answers are cached in `keepa_seller`
and asked again only after SELLER_MAX_AGE (ratings move slowly); a seller Keepa does not know
is cached as unknown too, so it is not paid for on every batch. The spend goes through the
shared token budget under its own purpose ("processor-sellers").

Keepa's `currentRating` is percent positive (0-100); analytics.SellerInfo takes the 0-500
scale of docs/domain.md, so the percent is multiplied by 5 (100 % -> 500 -> fraction 1.0).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session, col, select

from tools.db import upsert
from tools.deals.analytics import SellerInfo, seller_quality_score
from tools.keepa.budget import KeepaPurpose
from tools.keepa.errors import KeepaError
from tools.models import KeepaSeller

log = logging.getLogger(__name__)
SELLER_MAX_AGE = timedelta(days=7)
SELLERS_PER_REQUEST = 100  # Keepa's limit for one /seller/ request
PURPOSE: KeepaPurpose = "processor-sellers"


class SellersClient(Protocol):
    def seller(
        self,
        seller_ids: list[str],
        *,
        purpose: KeepaPurpose | None = None,
    ) -> dict[str, Any]: ...


def seller_info(rating_pct: int | None, rating_count: int | None) -> SellerInfo | None:
    """SellerInfo on docs/domain.md's 0-500 scale from Keepa's percent, or None if unrated."""
    if rating_pct is None or rating_count is None:
        return None
    return SellerInfo(rating=min(100, max(0, rating_pct)) * 5, rating_count=max(0, rating_count))


def _row(seller_id: str, obj: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    def num(key: str) -> int | None:
        v = (obj or {}).get(key)
        return int(v) if isinstance(v, int | float) and v >= 0 else None

    name = (obj or {}).get("sellerName")
    return {
        "seller_id": seller_id,
        "name": name if isinstance(name, str) else None,
        "rating_pct": num("currentRating"),
        "rating_count": num("currentRatingCount"),
        "fetched_at": now,
    }


def lookup_sellers(
    client: SellersClient,
    session: Session,
    seller_ids: set[str],
    now: datetime,
    *,
    max_age: timedelta = SELLER_MAX_AGE,
) -> tuple[dict[str, SellerInfo | None], int]:
    """SellerInfo (None: unrated or unknown) per id, from the cache or Keepa; and ids fetched.

    A failed /seller/ request is logged and leaves those sellers unscored for this batch: seller
    quality is an enrichment, it never sinks the deals it belongs to.
    """
    ids = sorted(s for s in seller_ids if s)
    if not ids:
        return {}, 0
    cached = {
        r.seller_id: r
        for r in session.exec(select(KeepaSeller).where(col(KeepaSeller.seller_id).in_(ids))).all()
    }
    due = [s for s in ids if s not in cached or now - cached[s].fetched_at >= max_age]
    fresh: list[dict[str, Any]] = []
    for i in range(0, len(due), SELLERS_PER_REQUEST):
        chunk = due[i : i + SELLERS_PER_REQUEST]
        try:
            body = client.seller(chunk, purpose=PURPOSE)
        except KeepaError as err:
            log.warning("seller lookup of %d sellers failed: %s", len(chunk), err)
            continue
        fresh += [_row(s, body.get(s), now) for s in chunk]
    if fresh:
        upsert(session, KeepaSeller, fresh)
    out = {s: seller_info(r.rating_pct, r.rating_count) for s, r in cached.items()}
    out.update({r["seller_id"]: seller_info(r["rating_pct"], r["rating_count"]) for r in fresh})
    return out, len(fresh)


def apply_seller_quality(record: Any, sellers: dict[str, SellerInfo | None]) -> None:
    """Fill record.seller_quality for its Price Now seller (the rule of analyse_product)."""
    sid = getattr(record, "seller_id", None)
    if sid is None or sid not in sellers:
        return
    missing = dict(record.missing or {})
    record.seller_quality = seller_quality_score(sellers[sid])
    if record.seller_quality is None:
        missing["seller_quality"] = f"seller {sid} has no ratings on Keepa"
    else:
        missing.pop("seller_quality", None)
    record.missing = missing

"""Ava's daily picks: the deals most likely to turn into profit for this seller, with a reason.

A deal's quoted profit is only worth something if three things hold: the seller can list it
(gating), a copy bought now sells at the List at within ~90 days (velocity against the
competition, and whether the sales inferred from the history are real: Deal Trust), and the
quoted price is still there when the seller gets to it (the data's age). So the score is the
profit under the seller's own settings times those three chances:

    score = profit × P(sells in 90 d) × trust × freshness × gating
    P(sells in 90 d) = 1 − exp(−sales_90 / (offers + 1))   (a sale goes to one of the sellers)
    trust     = Deal Trust / 100, clipped to [0.2, 1] (0.5 when unknown)
    freshness = exp(−age_h / FRESH_HALF_H × ln 2)       (half credit after FRESH_HALF_H)
    gating    = 0 restricted, 1 checked and allowed, UNCHECKED_GATING_WEIGHT unchecked

ROI enters only as a floor (MIN_ROI): chasing ROI alone buys the cheapest, slowest books
(bench/picks.py measures both baselines against this score on the sandbox market's future).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from tools.alerts.matching import Row
from tools.alerts.schedule import zone
from tools.db import table_of
from tools.deals import money as m
from tools.deals.search.api import gated_status
from tools.deals.search.filters import VISIBLE_STATUSES
from tools.models import AlertOutbox, AlertSettings, Deal, Role, User
from tools.user_settings import UserSettings, load_user_settings

D = table_of(Deal)
CANDIDATES = 2000  # deals considered per run (the most profitable under the defaults)
MIN_ROI = 15.0  # % under the seller's settings
FRESH_HALF_H = 12.0
UNCHECKED_GATING_WEIGHT = 0.6
Scorer = Literal["ava", "top_roi", "profit_roi_age"]

PICK_COLUMNS = (
    "asin",
    "title",
    "price_now",
    "list_at",
    "amz_fees",
    "referral_pct",
    "referral_min",
    "fba_fee",
    "closing_fee",
    "shipping_included",
    "sales_rank",
    "rank_drops_90",
    "offers_used",
    "deal_trust",
    "fetched_at",
    "updated_at",
)


@dataclass(frozen=True)
class Pick:
    asin: str
    title: str | None
    price: float
    list_at: float
    profit: float
    roi: float
    score: float
    sell_chance: float
    age_h: float
    gated: str  # not_restricted | pending | error
    reason: str

    def as_payload(self) -> dict[str, Any]:
        return {
            "asin": self.asin,
            "title": self.title,
            "price": round(self.price, 2),
            "profit": round(self.profit, 2),
            "roi": round(self.roi, 1),
            "reason": self.reason,
            "url": f"https://www.amazon.com/dp/{self.asin}",
        }


def candidate_rows(session: Session, limit: int = CANDIDATES) -> list[Row]:
    return list(
        session.execute(
            select(*[D.c[c] for c in PICK_COLUMNS])
            .where(D.c.status.in_(VISIBLE_STATUSES), D.c.profit_default > 0)
            .order_by(D.c.profit_default.desc())
            .limit(limit)
        ).mappings()
    )


def sell_chance(sales_90: float | None, offers: float | None) -> float:
    if not sales_90 or sales_90 <= 0:
        return 0.0
    return 1.0 - math.exp(-float(sales_90) / (float(offers or 0) + 1.0))


def _age_h(row: Row, now: datetime) -> float:
    at = row.get("fetched_at") or row.get("updated_at")
    return max(0.0, (now - at).total_seconds() / 3600.0) if at else 24.0 * 7


def _reason(profit: float, roi: float, chance: float, row: Row, gated: str) -> str:
    parts = [f"${profit:.2f} profit ({roi:.0f}% ROI)"]
    drops, offers = row.get("rank_drops_90"), row.get("offers_used")
    if drops is not None:
        parts.append(
            f"{drops} sale{'s' if drops != 1 else ''} in 90 days against "
            f"{offers or 0} used offer{'s' if (offers or 0) != 1 else ''} "
            f"(~{chance * 100:.0f}% chance to sell within 90 days)"
        )
    if row.get("deal_trust") is not None:
        parts.append(f"Deal Trust {row['deal_trust']:.0f}%")
    if gated == "pending":
        parts.append("gating not checked yet")
    return "; ".join(parts)


def score_deals(
    rows: Iterable[Row],
    settings: UserSettings,
    gating: Mapping[str, str],
    now: datetime,
    *,
    scorer: Scorer = "ava",
    count: int = 5,
) -> list[Pick]:
    """The seller's top `count` deals by `scorer` (ours, or a baseline for the backtest)."""
    picks: list[Pick] = []
    for row in rows:
        gated = gating.get(row["asin"], "pending")
        if gated == "restricted":
            continue
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
        if money.profit is None or money.roi is None or money.profit <= 0:
            continue
        age = _age_h(row, now)
        chance = sell_chance(row.get("rank_drops_90"), row.get("offers_used"))
        if scorer == "top_roi":
            score = money.roi
        elif scorer == "profit_roi_age":  # the "Prime Picks" floor: profit × ROI, age decay
            score = money.profit * money.roi * math.exp(-age / 24.0)
        else:
            if money.roi < MIN_ROI:
                continue
            trust = row.get("deal_trust")
            trust_w = 0.5 if trust is None else min(1.0, max(0.2, float(trust) / 100.0))
            fresh = math.exp(-age / FRESH_HALF_H * math.log(2))
            gate_w = 1.0 if gated == "not_restricted" else UNCHECKED_GATING_WEIGHT
            score = money.profit * chance * trust_w * fresh * gate_w
            if score <= 0:
                continue
        picks.append(
            Pick(
                asin=row["asin"],
                title=row.get("title"),
                price=float(row["price_now"]),
                list_at=float(row["list_at"]),
                profit=money.profit,
                roi=money.roi,
                score=score,
                sell_chance=chance,
                age_h=age,
                gated=gated,
                reason=_reason(money.profit, money.roi, chance, row, gated),
            )
        )
    picks.sort(key=lambda p: (-p.score, p.asin))
    return picks[:count]


def picks_for(
    session: Session,
    user: User,
    now: datetime,
    *,
    count: int = 5,
    rows: Sequence[Row] | None = None,
) -> list[Pick]:
    """Today's picks for one seller ("show today's picks")."""
    rows = candidate_rows(session) if rows is None else rows
    gating = gated_status(session, user, [r["asin"] for r in rows])
    return score_deals(rows, load_user_settings(user), gating, now, count=count)


def _due(settings: AlertSettings, now: datetime) -> str | None:
    """The seller's local date when their picks are due now and not yet made, else None."""
    if settings.picks_count <= 0:
        return None
    local = now.astimezone(zone(settings))
    today = local.date().isoformat()
    if local.hour < settings.picks_hour or settings.last_picks_on == today:
        return None
    return today


def make_due_picks(session: Session, now: datetime) -> dict[str, Any]:
    """Picks for every seller whose morning has come; one outbox row per channel each."""
    from tools.alerts.engine import channels_for

    users = session.exec(
        select(User).where(
            col(User.disabled).is_(False), col(User.role).in_([Role.user, Role.admin])
        )
    ).all()
    made = messages = 0
    rows: list[Row] | None = None
    for user in users:
        target = session.get(AlertSettings, user.id) or AlertSettings(user_id=user.id or 0)
        today = _due(target, now)
        if today is None:
            continue
        rows = candidate_rows(session) if rows is None else rows
        picks = picks_for(session, user, now, count=target.picks_count, rows=rows)
        target.last_picks_on = today
        session.add(target)
        made += 1
        if not picks:
            continue
        payload = {"date": today, "deals": [p.as_payload() for p in picks]}
        for channel, due, sent in channels_for(target, now):
            session.add(
                AlertOutbox(
                    owner_id=user.id or 0,
                    kind="picks",
                    channel=channel,
                    payload=payload,
                    created_at=now,
                    due_at=due,
                    sent_at=sent,
                )
            )
            messages += 1
    return {"sellers": made, "messages": messages}

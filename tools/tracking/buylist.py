"""A seller's buy list: deals flagged to buy, compared with their numbers when flagged.

Each row keeps the price, List at, profit and ROI it had when added (under the seller's
settings then), so the list can say which deals got worse since: less profit, gated now, or
gone (the janitor removed the deal, no used offer is left, or no profit is left at the
seller's settings). "Clear the ones that are gone" removes exactly the rows marked gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from tools.deals.search.api import gated_status
from tools.models import BuyListItem, User
from tools.restrictions.conditions import UnknownCondition, to_condition_type
from tools.tracking import TrackingError
from tools.tracking.deal_now import DealNow, deals_now
from tools.user_settings import load_user_settings

MAX_ITEMS = 500  # per seller: a buy list, not a catalogue
MAX_NOTE = 500
# "worse": profit fell by at least this much, in dollars and as a share of the profit then
WORSE_DOLLARS = 1.0
WORSE_SHARE = 0.10

State = Literal["ok", "better", "worse", "gone", "unknown"]


@dataclass
class BuyListRow:
    asin: str
    title: str | None
    condition: str
    note: str | None
    added_at: datetime
    price_at_add: float | None
    profit_at_add: float | None
    price_now: float | None
    list_at: float | None
    profit: float | None
    roi: float | None
    gated: str | None
    state: State
    why: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["added_at"] = self.added_at.isoformat()
        return data


def _owner(user: User) -> int:
    if user.id is None:
        raise TrackingError("the buy list belongs to a signed-in seller")
    return user.id


def _condition(value: str | None) -> str:
    try:
        return to_condition_type(value)
    except UnknownCondition as err:
        raise TrackingError(str(err)) from None


def _state(item: BuyListItem, deal: DealNow | None, gated: str | None) -> tuple[State, str | None]:
    """How the deal compares with when it was added, and why, in words."""
    if deal is None:
        if item.price_at_add is None:
            return "unknown", "not in the deals database yet"
        return "gone", "no longer in the deals database"
    if deal.price_now is None:
        return "gone", "no used offer left"
    profit = deal.money.profit
    if profit is not None and profit <= 0:
        return "gone", f"no profit left (${profit:,.2f} at today's price)"
    if gated == "restricted":
        return "worse", "you are gated on it now"
    then = item.profit_at_add
    if profit is None or then is None:
        return "ok", None
    drop = then - profit
    if drop >= WORSE_DOLLARS and drop >= WORSE_SHARE * abs(then):
        return "worse", f"profit ${then:,.2f} -> ${profit:,.2f} since you added it"
    if -drop >= WORSE_DOLLARS and -drop >= WORSE_SHARE * abs(then):
        return "better", f"profit ${then:,.2f} -> ${profit:,.2f} since you added it"
    return "ok", None


def add_item(
    session: Session,
    user: User,
    asin: str,
    *,
    condition: str | None = None,
    note: str | None = None,
) -> tuple[BuyListRow, bool]:
    """Add (or keep) an ASIN on the seller's buy list; True when it was not there before."""
    owner = _owner(user)
    asin = asin.strip().upper()
    existing = session.exec(
        select(BuyListItem).where(BuyListItem.user_id == owner, BuyListItem.asin == asin)
    ).first()
    created = existing is None
    if existing is None:
        count = session.exec(
            select(func.count()).select_from(BuyListItem).where(BuyListItem.user_id == owner)
        ).one()
        if count >= MAX_ITEMS:
            raise TrackingError(
                f"your buy list is full ({MAX_ITEMS} items): remove some, or clear the ones "
                "that are gone"
            )
        settings = load_user_settings(user)
        deal = deals_now(session, [asin], settings).get(asin)
        existing = BuyListItem(
            user_id=owner,
            asin=asin,
            title=deal.title if deal else None,
            condition=_condition(condition),
            note=(note or "").strip()[:MAX_NOTE] or None,
            price_at_add=deal.price_now if deal else None,
            list_at_at_add=deal.list_at if deal else None,
            profit_at_add=deal.money.profit if deal else None,
            roi_at_add=deal.money.roi if deal else None,
        )
        session.add(existing)
        session.flush()
    elif condition or note:
        if condition:
            existing.condition = _condition(condition)
        if note:
            existing.note = note.strip()[:MAX_NOTE]
        session.add(existing)
        session.flush()
    return _rows(session, user, [existing])[0], created


def remove_items(session: Session, user: User, asins: Iterable[str]) -> list[str]:
    """Remove these ASINs from the seller's buy list; returns the ones that were on it."""
    owner = _owner(user)
    wanted = sorted({a.strip().upper() for a in asins if a.strip()})
    if not wanted:
        return []
    found = list(
        session.exec(
            select(BuyListItem.asin).where(
                BuyListItem.user_id == owner, col(BuyListItem.asin).in_(wanted)
            )
        ).all()
    )
    if found:
        session.execute(
            delete(BuyListItem).where(
                col(BuyListItem.user_id) == owner, col(BuyListItem.asin).in_(found)
            )
        )
    return sorted(found)


def list_items(session: Session, user: User) -> list[BuyListRow]:
    """The seller's buy list, newest first, each row with today's numbers and its state."""
    owner = _owner(user)
    items = list(
        session.exec(
            select(BuyListItem)
            .where(BuyListItem.user_id == owner)
            .order_by(col(BuyListItem.added_at).desc(), col(BuyListItem.id).desc())
        ).all()
    )
    return _rows(session, user, items)


def clear_gone(session: Session, user: User) -> list[BuyListRow]:
    """Remove the rows whose deal is gone; returns them (what was cleared, and why)."""
    gone = [r for r in list_items(session, user) if r.state == "gone"]
    remove_items(session, user, [r.asin for r in gone])
    return gone


def _rows(session: Session, user: User, items: list[BuyListItem]) -> list[BuyListRow]:
    settings = load_user_settings(user)
    asins = [i.asin for i in items]
    deals = deals_now(session, asins, settings)
    gated = gated_status(session, user, asins)
    rows = []
    for item in items:
        deal = deals.get(item.asin)
        g = gated.get(item.asin)
        state, why = _state(item, deal, g)
        rows.append(
            BuyListRow(
                asin=item.asin,
                title=(deal.title if deal else None) or item.title,
                condition=item.condition,
                note=item.note,
                added_at=item.added_at,
                price_at_add=item.price_at_add,
                profit_at_add=item.profit_at_add,
                price_now=deal.price_now if deal else None,
                list_at=deal.list_at if deal else None,
                profit=deal.money.profit if deal else None,
                roi=deal.money.roi if deal else None,
                gated=g,
                state=state,
                why=why,
            )
        )
    return rows

"""First-in-first-out matching of sold units to purchased units (pure: no database).

Lots are purchases (units bought at a time); events are sales and refunds in the order they
happened. A sale takes units from the oldest lot among those eligible for it (the caller
decides eligibility: the same SKU, else the same ASIN and condition) that was bought before
the sale (a day's grace: a purchase typed as a date sits at noon); units nobody bought on
record stay unmatched. A refund returns its units to the lots its sale took them from, the
most recently taken first (policy: a refunded FBA unit goes back to inventory and can sell
again, so the same purchased unit may be matched by a later sale).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GRACE = timedelta(days=1)


@dataclass
class Lot:
    id: int
    at: datetime
    quantity: int
    remaining: int = -1

    def __post_init__(self) -> None:
        if self.remaining < 0:
            self.remaining = self.quantity


@dataclass(frozen=True)
class Sale:
    key: str  # one sale line (order item); a refund names it
    at: datetime
    quantity: int
    eligible: tuple[int, ...]  # ids of the lots this sale may take units from


@dataclass(frozen=True)
class Refund:
    key: str  # the refund's own key
    at: datetime
    quantity: int
    sale_key: str  # the sale it reverses


@dataclass
class Allocation:
    """`quantity` units of event `key` taken from (positive) or returned to (negative) lot
    `lot` (None: no recorded purchase had them)."""

    key: str
    at: datetime
    lot: int | None
    quantity: int
    sold_at: datetime | None = None  # for a return: when the returned units had sold


@dataclass
class _Taken:
    lot: int | None
    quantity: int


@dataclass
class Matching:
    allocations: list[Allocation] = field(default_factory=list)
    lots: dict[int, Lot] = field(default_factory=dict)


def _order(event: Sale | Refund) -> tuple[datetime, int, str]:
    # at the same instant a sale comes before a refund (a refund can only follow its sale)
    return (event.at, 0 if isinstance(event, Sale) else 1, event.key)


def match(lots: Iterable[Lot], events: Sequence[Sale | Refund]) -> Matching:
    """Allocate every event's units; `lots` are copied, their `remaining` is what is left."""
    by_id = {lot.id: Lot(lot.id, lot.at, lot.quantity) for lot in lots}
    out = Matching(lots=by_id)
    taken: dict[str, list[_Taken]] = {}
    sold_at: dict[str, datetime] = {}
    for event in sorted(events, key=_order):
        if event.quantity <= 0:
            continue
        if isinstance(event, Sale):
            taken[event.key] = _sell(event, by_id, out.allocations)
            sold_at[event.key] = event.at
        else:
            _return(event, taken.get(event.sale_key, []), by_id, out.allocations, sold_at)
    return out


def _sell(sale: Sale, lots: dict[int, Lot], out: list[Allocation]) -> list[_Taken]:
    candidates = sorted(
        (lots[i] for i in set(sale.eligible) if i in lots and lots[i].at <= sale.at + GRACE),
        key=lambda lot: (lot.at, lot.id),
    )
    need = sale.quantity
    took: list[_Taken] = []
    for lot in candidates:
        if need == 0:
            break
        n = min(need, lot.remaining)
        if n <= 0:
            continue
        lot.remaining -= n
        need -= n
        took.append(_Taken(lot.id, n))
    if need:
        took.append(_Taken(None, need))
    out.extend(Allocation(sale.key, sale.at, t.lot, t.quantity) for t in took)
    return took


def _return(
    refund: Refund,
    took: list[_Taken],
    lots: dict[int, Lot],
    out: list[Allocation],
    sold_at: dict[str, datetime],
) -> None:
    need = refund.quantity
    when = sold_at.get(refund.sale_key)
    for t in reversed(took):
        if need == 0:
            break
        n = min(need, t.quantity)
        if n <= 0:
            continue
        t.quantity -= n
        need -= n
        if t.lot is not None:
            lots[t.lot].remaining += n
        out.append(Allocation(refund.key, refund.at, t.lot, -n, when))
    if need:  # a refund of units we never saw sold (the sale is older than the synced data)
        out.append(Allocation(refund.key, refund.at, None, -need, None))

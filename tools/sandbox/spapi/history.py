"""A seeded seller's past: SKUs, orders and financial events generated deterministically.

For tests and benches that need a seller with thousands of SKUs and tens of thousands of
orders (bench/tracking.py: 10,000 and 50,000). Orders arrive at a steady rate from
`days` before `end` to `future_days` after it, so a clock moving past `end` keeps bringing new
orders, shipments and refunds for incremental syncs to find. This history is a fixture of
the seller's past, not driven by the Keepa market; the units a seller sends in from now on
are (fulfilment.py).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from tools.sandbox.spapi.ledger import Event, EventItem, Ledger, Order, OrderItem, SkuView

HOUR = 3600.0
DAY = 86400.0
TAX_RATE = 0.08
REFERRAL_PCT = 0.15
CLOSING_FEE = 1.80
CONDITIONS = (("UsedLikeNew", "Like New"), ("UsedVeryGood", "Very Good"), ("UsedGood", "Good"))
SUBTYPE = dict(CONDITIONS)


@dataclass(frozen=True)
class HistorySpec:
    """What a seeded seller looks like; `end` (epoch seconds) anchors the history in time."""

    n_skus: int
    n_orders: int  # orders in the `days` before `end`
    end: float
    days: float = 365.0
    future_days: float = 30.0
    refund_rate: float = 0.03
    cancel_rate: float = 0.02
    multi_item_rate: float = 0.08
    deferred_rate: float = 0.02  # shipments whose event is released 1-36 h after posting
    seed: int = 0


def _ids(seller_id: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seller_id}:{seed}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _order_id(rng: random.Random) -> str:
    return f"{rng.randrange(111, 114)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"


def _asin(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "B0" + "".join(rng.choice(alphabet) for _ in range(8))


class _FixedInventory:
    """Seeded SKUs keep the quantities they were generated with (sorted by SKU)."""

    def __init__(self, skus: list[SkuView]) -> None:
        self._skus = sorted(skus, key=lambda s: s.sku)

    def skus_at(self, t: float) -> list[SkuView]:
        return [s for s in self._skus if s.updated <= t]


def seeded_ledger(seller_id: str, spec: HistorySpec, catalog: list[tuple[str, str]]) -> Ledger:
    """The seeded seller's records; `catalog` offers (asin, title) pairs to list (the Keepa
    market's books, so titles and ASINs are ones the rest of the app knows), else made up."""
    rng = _ids(seller_id, spec.seed)
    start = spec.end - spec.days * DAY
    skus: list[SkuView] = []
    prices: list[float] = []
    fba_fees: list[float] = []
    for k in range(spec.n_skus):
        if catalog:
            asin, title = catalog[k % len(catalog)]
        else:
            asin, title = _asin(rng), f"Sandbox book {k + 1}"
        cond, _ = CONDITIONS[k % len(CONDITIONS)]
        in_stock = rng.random() < 0.6
        skus.append(
            SkuView(
                sku=f"SBX-{k + 1:06d}-{cond[4:6].upper()}",
                asin=asin,
                fnsku=f"X00{rng.randrange(36**7):07X}"[:10],
                condition=cond,
                title=title,
                fulfillable=rng.randint(1, 5) if in_stock else 0,
                inbound_working=1 if rng.random() < 0.02 else 0,
                inbound_shipped=rng.randint(1, 3) if rng.random() < 0.04 else 0,
                inbound_receiving=1 if rng.random() < 0.02 else 0,
                reserved=1 if in_stock and rng.random() < 0.05 else 0,
                unfulfillable=1 if rng.random() < 0.02 else 0,
                updated=start + rng.random() * (spec.end - start),
            )
        )
        prices.append(round(rng.uniform(8, 80)) - 0.01)
        fba_fees.append(round(rng.choice((3.22, 3.40, 3.58, 3.77, 4.75, 5.40)), 2))
    total = spec.n_orders + int(spec.n_orders * spec.future_days / max(spec.days, 1e-9))
    span = (spec.days + spec.future_days) * DAY
    times = sorted(start + rng.random() * span for _ in range(total))
    orders: list[Order] = []
    events: list[Event] = []
    seen: set[str] = set()
    for n, purchased in enumerate(times):
        order_id = _order_id(rng)
        while order_id in seen:
            order_id = _order_id(rng)
        seen.add(order_id)
        paid = purchased + rng.uniform(60, 3600)
        n_items = 2 if rng.random() < spec.multi_item_rate and spec.n_skus > 1 else 1
        if not spec.n_skus:
            picks: list[int] = []
        elif n_items == 1:
            picks = [rng.randrange(spec.n_skus)]
        else:
            picks = rng.sample(range(spec.n_skus), n_items)
        items = []
        for j, k in enumerate(picks):
            sku = skus[k]
            price = round(prices[k] * rng.uniform(0.9, 1.1), 0) - 0.01
            price = max(price, 4.99)
            subtype = SUBTYPE[sku.condition]
            items.append(
                OrderItem(
                    order_item_id=f"{(n * 7919 + j) % 10**14:014d}",
                    asin=sku.asin,
                    sku=sku.sku,
                    title=sku.title,
                    quantity=1,
                    price=price,
                    tax=round(price * TAX_RATE, 2),
                    condition_subtype=subtype,
                )
            )
        if not items:
            continue
        canceled = paid if rng.random() < spec.cancel_rate else None
        shipped = None if canceled is not None else paid + rng.uniform(4 * HOUR, 36 * HOUR)
        orders.append(Order(order_id, purchased, paid, shipped, canceled, items))
        if shipped is None:
            continue
        posted = shipped + rng.uniform(0, 6 * HOUR)
        deferred = rng.random() < spec.deferred_rate
        events.append(
            Event(
                f"s{n:08d}",
                "shipment",
                order_id,
                posted,
                [shipment_item(it, fba_fees[picks[j]]) for j, it in enumerate(items)],
                released=posted + rng.uniform(HOUR, 36 * HOUR) if deferred else posted,
            )
        )
        if rng.random() < spec.refund_rate:
            it = items[0]
            events.append(
                Event(
                    f"r{n:08d}",
                    "refund",
                    order_id,
                    posted + rng.uniform(3 * DAY, 30 * DAY),
                    [refund_item(it, f"{(n * 104729) % 10**14:014d}")],
                )
            )
    return Ledger(orders, events, _FixedInventory(skus))


def shipment_item(item: OrderItem, fba_fee: float) -> EventItem:
    """A shipped item's charges and Amazon's fees (books: 15 % referral, $1.80 closing fee),
    with the marketplace facilitator tax collected and withheld (net zero for the seller)."""
    referral = round(item.price * REFERRAL_PCT, 2)
    return EventItem(
        key=item.order_item_id,
        order_item_id=item.order_item_id,
        sku=item.sku,
        quantity=item.quantity,
        charges={"Principal": item.price, "Tax": item.tax},
        fees={
            "Commission": -referral,
            "FBAPerUnitFulfillmentFee": -round(fba_fee * item.quantity, 2),
            "VariableClosingFee": -round(CLOSING_FEE * item.quantity, 2),
        },
        withheld={"MarketplaceFacilitatorTax-Principal": -item.tax},
    )


def refund_item(item: OrderItem, adjustment_id: str) -> EventItem:
    """A full refund of one item: principal and tax back to the buyer, the referral fee back
    to the seller less Amazon's refund administration fee (20 % of it, at most $5)."""
    referral = round(item.price * REFERRAL_PCT, 2)
    admin = round(min(5.0, referral * 0.2), 2)
    return EventItem(
        key=adjustment_id,
        order_item_id=item.order_item_id,
        sku=item.sku,
        quantity=item.quantity,
        charges={"Principal": -item.price, "Tax": -item.tax},
        fees={"Commission": referral, "RefundCommission": -admin},
        withheld={"MarketplaceFacilitatorTax-Principal": item.tax},
    )

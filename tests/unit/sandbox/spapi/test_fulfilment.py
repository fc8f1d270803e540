"""One simulated world: units a seller sends in arrive after a few simulated days and sell when
the Keepa sandbox market sells a copy at or above the seller's price, at the seller's price."""

from __future__ import annotations

import numpy as np

from tools.clock import SimClock
from tools.keepa.conventions import keepa_minutes_to_unix, to_keepa_minutes
from tools.sandbox.keepa import SandboxMarket
from tools.sandbox.keepa.series import USED
from tools.sandbox.spapi.fulfilment import Shipment, inbound_times
from tools.sandbox.spapi.world import SellerWorld

T0 = 1_780_000_000.0
DAY = 86400.0
SELLER = "A1ANNSELLER"


def _market_sales(
    market: SandboxMarket, asin: str, after: float, until: float
) -> list[tuple[float, float]]:
    i = market.index_of(asin)
    assert i is not None
    hist = market.history(i, to_keepa_minutes(until))
    sale_t = hist.sale_t[(hist.sale_t > to_keepa_minutes(after))]
    sale_t = sale_t[sale_t <= to_keepa_minutes(until)]
    used = hist.series[USED]
    k = np.searchsorted(used.t, sale_t, side="right") - 1
    return [
        (keepa_minutes_to_unix(int(t)), (int(used.v[j]) + hist.used_ship) / 100)
        for t, j in zip(sale_t, k, strict=True)
    ]


def _busy_asin(market: SandboxMarket) -> str:
    """A book the market sells often (so a month holds several sales)."""
    best = max(
        market.asins()[:60],
        key=lambda a: len(_market_sales(market, a, T0, T0 + 40 * DAY)),
    )
    return best


def test_units_arrive_after_a_few_days_then_sell_on_the_markets_sales() -> None:
    clock = SimClock(T0)
    market = SandboxMarket(n_products=300, seed=7, clock=clock)
    world = SellerWorld(clock, market)
    asin = _busy_asin(market)
    sales = _market_sales(market, asin, T0, T0 + 40 * DAY)
    cheap = min(p for _, p in sales) - 1.0  # every market sale is at or above it
    shipment = Shipment("ANN-1", asin, "used_good", 2, round(cheap, 2), T0)
    world.register(SELLER, shipment)
    shipped_out, receiving, available = inbound_times(shipment)
    assert T0 + 3.5 * DAY <= available <= T0 + 7 * DAY, "a few simulated days inbound"

    stages = [
        (T0 + 60, "inbound_working"),
        (shipped_out + 60, "inbound_shipped"),
        (receiving + 60, "inbound_receiving"),
    ]
    for t, field in stages:
        (sku,) = world.skus(SELLER, t)
        assert getattr(sku, field) == 2 and sku.total == 2, field

    ledger = world.ledgers(SELLER)[0]
    orders = sorted(ledger.orders, key=lambda o: o.purchased)
    # each unit sold on one of the market's sales once it could: the first two after arrival
    assert [o.purchased for o in orders] == [t for t, _ in sales if t >= available][:2]
    assert all(o.items[0].price == round(cheap, 2) for o in orders)
    (sku,) = world.skus(SELLER, orders[0].purchased + 1)
    assert sku.reserved == 1 and sku.fulfillable == 1  # sold, not shipped yet
    shipped = orders[0].shipped
    assert shipped is not None and orders[0].purchased < shipped < orders[0].purchased + DAY
    later = world.skus(SELLER, orders[-1].shipped + 1)[0]  # type: ignore[operator]
    assert later.fulfillable == later.reserved == 0 and later.total == 0
    (event,) = [e for e in ledger.events if e.order_id == orders[0].order_id]
    assert event.posted > shipped and event.items[0].charges["Principal"] == round(cheap, 2)
    assert event.items[0].fees["Commission"] == -round(cheap * 0.15, 2)


def test_a_price_above_every_market_sale_never_sells() -> None:
    clock = SimClock(T0)
    market = SandboxMarket(n_products=300, seed=7, clock=clock)
    world = SellerWorld(clock, market)
    asin = _busy_asin(market)
    top = max(p for _, p in _market_sales(market, asin, T0, T0 + 60 * DAY))
    world.register(SELLER, Shipment("ANN-9", asin, "used_good", 1, top + 5.0, T0))
    clock.advance(50 * DAY)
    (sku,) = world.skus(SELLER, clock.now())
    assert sku.fulfillable == 1 and not world.ledgers(SELLER)[0].orders


def test_the_cheaper_of_two_waiting_units_sells_first() -> None:
    clock = SimClock(T0)
    market = SandboxMarket(n_products=300, seed=7, clock=clock)
    world = SellerWorld(clock, market)
    asin = _busy_asin(market)
    low = min(p for _, p in _market_sales(market, asin, T0, T0 + 40 * DAY)) - 1.0
    world.register(SELLER, Shipment("DEAR", asin, "used_good", 1, round(low + 0.5, 2), T0))
    world.register(SELLER, Shipment("CHEAP", asin, "used_good", 1, round(low, 2), T0))
    first = min(world.ledgers(SELLER)[0].orders, key=lambda o: o.purchased)
    assert first.items[0].sku == "CHEAP"

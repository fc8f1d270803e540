"""The SP-API sandbox's inventory, orders and finances endpoints, as a client sees them: the
documented shapes, keyset paging, each operation's usage plan (429 past it), time moving
orders through their statuses, and one seller never seeing another's records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tools.clock import SimClock
from tools.sandbox.spapi import HistorySpec, SandboxConfig, make_restrictions_sandbox_app
from tools.sandbox.spapi.state import SandboxState

T0 = 1_780_000_000.0
ANN, BOB = "A1ANNSELLER", "A1BOBSELLER"
MP = "ATVPDKIKX0DER"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    def __init__(self, http: httpx.AsyncClient, state: SandboxState, clock: SimClock) -> None:
        self.http, self.state, self.clock = http, state, clock

    async def get(self, seller: str, path: str, **params: Any) -> httpx.Response:
        token = self.state.issue_token(seller)
        return await self.http.get(path, params=params, headers={"x-amz-access-token": token})


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    clock = SimClock(T0)
    config = SandboxConfig(
        clock=clock,
        usage_plans=None,  # the plan tests switch it on
        histories={
            ANN: HistorySpec(n_skus=120, n_orders=300, end=T0 - 3600, days=60, refund_rate=0.2),
            BOB: HistorySpec(n_skus=7, n_orders=40, end=T0 - 3600, days=60, seed=1),
        },
    )
    app = make_restrictions_sandbox_app(config)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        yield Api(c, app.state.sandbox, clock)


async def _inventory_pages(api: Api, seller: str) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        params = {"details": "true", "granularityType": "Marketplace", "granularityId": MP}
        params["marketplaceIds"] = MP
        if token:
            params["nextToken"] = token
        r = await api.get(seller, "/fba/inventory/v1/summaries", **params)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        token = (r.json().get("pagination") or {}).get("nextToken")
        if not token:
            return pages


async def test_inventory_pages_of_50_in_sku_order_with_details(api: Api) -> None:
    pages = await _inventory_pages(api, ANN)
    sizes = [len(p["payload"]["inventorySummaries"]) for p in pages]
    assert sizes == [50, 50, 20]
    skus = [s["sellerSku"] for p in pages for s in p["payload"]["inventorySummaries"]]
    assert skus == sorted(skus) and len(set(skus)) == 120
    first = pages[0]["payload"]["inventorySummaries"][0]
    details = first["inventoryDetails"]
    assert set(details) >= {
        "fulfillableQuantity",
        "inboundWorkingQuantity",
        "inboundShippedQuantity",
        "inboundReceivingQuantity",
        "reservedQuantity",
        "unfulfillableQuantity",
        "researchingQuantity",
    }
    assert first["totalQuantity"] == (
        details["fulfillableQuantity"]
        + details["inboundWorkingQuantity"]
        + details["inboundShippedQuantity"]
        + details["inboundReceivingQuantity"]
        + details["reservedQuantity"]["totalReservedQuantity"]
        + details["unfulfillableQuantity"]["totalUnfulfillableQuantity"]
        + details["researchingQuantity"]["totalResearchingQuantity"]
    )
    assert pages[0]["payload"]["granularity"] == {
        "granularityType": "Marketplace",
        "granularityId": MP,
    }


async def test_an_inventory_next_token_expires_after_30_seconds(api: Api) -> None:
    base = {"granularityType": "Marketplace", "granularityId": MP, "marketplaceIds": MP}
    first = await api.get(ANN, "/fba/inventory/v1/summaries", **base)
    token = first.json()["pagination"]["nextToken"]
    api.clock.advance(31)
    r = await api.get(ANN, "/fba/inventory/v1/summaries", **base, nextToken=token)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput"
    # nor does another seller get anywhere with it
    r = await api.get(BOB, "/fba/inventory/v1/summaries", **base, nextToken=token)
    assert r.status_code == 400


async def test_each_operation_refuses_past_its_usage_plan(api: Api) -> None:
    from tools.spapi.plans import USAGE_PLANS

    api.state.config.usage_plans = dict(USAGE_PLANS)
    base = {"granularityType": "Marketplace", "granularityId": MP, "marketplaceIds": MP}
    codes = [
        (await api.get(ANN, "/fba/inventory/v1/summaries", **base)).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]  # burst 2
    r = await api.get(ANN, "/fba/inventory/v1/summaries", **base)
    assert r.json()["errors"][0]["code"] == "QuotaExceeded"
    assert r.headers["x-amzn-RateLimit-Limit"] == "2"
    api.clock.advance(0.5)  # rate 2/s: one request's worth
    assert (await api.get(ANN, "/fba/inventory/v1/summaries", **base)).status_code == 200
    # another seller has a bucket of its own
    assert (await api.get(BOB, "/fba/inventory/v1/summaries", **base)).status_code == 200
    # getOrders: burst 20, then one a minute
    after = iso(T0 - 86400)
    got = [
        (await api.get(ANN, "/orders/v0/orders", MarketplaceIds=MP, CreatedAfter=after)).status_code
        for _ in range(21)
    ]
    assert got.count(200) == 20 and got[-1] == 429
    api.clock.advance(30)
    assert (
        await api.get(ANN, "/orders/v0/orders", MarketplaceIds=MP, CreatedAfter=after)
    ).status_code == 429
    api.clock.advance(30)
    assert (
        await api.get(ANN, "/orders/v0/orders", MarketplaceIds=MP, CreatedAfter=after)
    ).status_code == 200


async def test_get_orders_validates_like_sp_api(api: Api) -> None:
    async def code(**params: Any) -> int:
        r = await api.get(ANN, "/orders/v0/orders", **params)
        return r.status_code

    after = iso(T0 - 86400)
    assert await code(CreatedAfter=after) == 400  # MarketplaceIds is required
    assert await code(MarketplaceIds=MP) == 400  # one of the After dates is required
    assert await code(MarketplaceIds=MP, CreatedAfter=after, LastUpdatedAfter=after) == 400
    assert await code(MarketplaceIds=MP, CreatedAfter=after, CreatedBefore=iso(T0 - 60)) == 400
    assert await code(MarketplaceIds=MP, CreatedAfter=after, MaxResultsPerPage=101) == 400
    assert await code(MarketplaceIds=MP, CreatedAfter="yesterday") == 400
    assert await code(MarketplaceIds=MP, CreatedAfter=after, CreatedBefore=iso(T0 - 300)) == 200


async def _all_orders(api: Api, seller: str, **window: str) -> tuple[list[dict[str, Any]], Any]:
    orders: list[dict[str, Any]] = []
    token, payload = None, {}
    while True:
        params: dict[str, Any] = {"MarketplaceIds": MP, "MaxResultsPerPage": 37}
        params.update({"NextToken": token} if token else window)
        r = await api.get(seller, "/orders/v0/orders", **params)
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        orders.extend(payload["Orders"])
        token = payload.get("NextToken")
        if not token:
            return orders, payload


async def test_orders_page_by_creation_and_show_each_status_as_of_now(api: Api) -> None:
    orders, payload = await _all_orders(api, ANN, CreatedAfter=iso(T0 - 70 * 86400))
    truth = [o for o in api.state.world.ledgers(ANN)[0].orders if o.purchased <= T0 - 120]
    assert [o["AmazonOrderId"] for o in orders] == [o.order_id for o in truth]
    assert payload["CreatedBefore"] == iso(T0 - 120)
    assert {o["OrderStatus"] for o in orders} <= {"Shipped", "Canceled", "Unshipped", "Pending"}
    shipped = next(o for o in orders if o["OrderStatus"] == "Shipped")
    assert shipped["FulfillmentChannel"] == "AFN" and "Amount" in shipped["OrderTotal"]
    assert "BuyerInfo" not in shipped and "ShippingAddress" not in shipped  # no PII


async def test_time_moves_an_order_through_its_statuses(api: Api) -> None:
    ledger = api.state.world.ledgers(ANN)[0]
    order = next(o for o in ledger.orders if o.purchased > T0 + 3600 and o.shipped)
    seen = []
    for t in (order.purchased + 1, order.paid + 1, order.shipped + 1):  # type: ignore[operator]
        api.clock.set(t + 180)
        window = {"LastUpdatedAfter": iso(t - 60)}
        got, _ = await _all_orders(api, ANN, **window)
        mine = [o for o in got if o["AmazonOrderId"] == order.order_id]
        assert len(mine) == 1, "an order shows once per window, at its latest change"
        seen.append(mine[0]["OrderStatus"])
        items = await api.get(ANN, f"/orders/v0/orders/{order.order_id}/orderItems")
        priced = "ItemPrice" in items.json()["payload"]["OrderItems"][0]
        assert priced == (seen[-1] != "Pending")  # no prices before payment (documented)
    assert seen == ["Pending", "Unshipped", "Shipped"]


async def test_refunds_come_as_adjustments_in_refund_event_list(api: Api) -> None:
    events: dict[str, list[dict[str, Any]]] = {"ShipmentEventList": [], "RefundEventList": []}
    token = None
    while True:
        params: dict[str, Any] = (
            {"NextToken": token}
            if token
            else {"PostedAfter": iso(T0 - 70 * 86400), "MaxResultsPerPage": 40}
        )
        r = await api.get(ANN, "/finances/v0/financialEvents", **params)
        assert r.status_code == 200, r.text
        payload = r.json()["payload"]
        for name in events:
            events[name].extend(payload["FinancialEvents"][name])
        token = payload.get("NextToken")
        if not token:
            break
    truth = [
        e
        for e in api.state.world.ledgers(ANN)[0].events
        if e.posted < T0 - 120 and e.released <= T0
    ]
    assert len(events["ShipmentEventList"]) + len(events["RefundEventList"]) == len(truth)
    assert events["RefundEventList"], "a 20 % refund rate makes refunds"
    refund = events["RefundEventList"][0]["ShipmentItemAdjustmentList"][0]
    assert refund["OrderAdjustmentItemId"]
    charges = {
        c["ChargeType"]: c["ChargeAmount"]["CurrencyAmount"]
        for c in refund["ItemChargeAdjustmentList"]
    }
    assert charges["Principal"] < 0
    sale = events["ShipmentEventList"][0]["ShipmentItemList"][0]
    fees = {f["FeeType"]: f["FeeAmount"]["CurrencyAmount"] for f in sale["ItemFeeList"]}
    assert set(fees) == {"Commission", "FBAPerUnitFulfillmentFee", "VariableClosingFee"}
    assert all(v < 0 for v in fees.values())


async def test_finance_windows_wider_than_180_days_answer_nothing(api: Api) -> None:
    r = await api.get(
        ANN,
        "/finances/v0/financialEvents",
        PostedAfter=iso(T0 - 200 * 86400),
        PostedBefore=iso(T0 - 10 * 86400),
    )
    lists = r.json()["payload"]["FinancialEvents"]
    assert r.status_code == 200 and not any(lists.values())
    assert "NextToken" not in r.json()["payload"]


async def test_a_seller_never_sees_another_sellers_records(api: Api) -> None:
    bob, _ = await _all_orders(api, BOB, CreatedAfter=iso(T0 - 70 * 86400))
    ann_ids = {o.order_id for o in api.state.world.ledgers(ANN)[0].orders}
    assert bob and not ann_ids & {o["AmazonOrderId"] for o in bob}
    some_ann_order = next(iter(ann_ids))
    r = await api.get(BOB, f"/orders/v0/orders/{some_ann_order}/orderItems")
    assert r.status_code == 404
    pages = await _inventory_pages(api, BOB)
    assert sum(len(p["payload"]["inventorySummaries"]) for p in pages) == 7
    # a token names its seller: a forged claim of another seller's id fails the signature
    token = api.state.issue_token(BOB)
    forged = token.replace(BOB, ANN)
    r = await api.http.get(
        "/orders/v0/orders",
        params={"MarketplaceIds": MP, "CreatedAfter": iso(T0 - 86400)},
        headers={"x-amz-access-token": forged},
    )
    assert r.status_code == 403

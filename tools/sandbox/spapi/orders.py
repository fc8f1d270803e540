"""Orders API v0: `getOrders` (GET /orders/v0/orders) and `getOrderItems`
(GET /orders/v0/orders/{orderId}/orderItems), in ordersV0.json's shapes.

getOrders takes CreatedAfter or LastUpdatedAfter (one of them, never both), their optional
Before bounds (at least two minutes in the past; the default), OrderStatuses and
MaxResultsPerPage (1-100); the answer's CreatedBefore / LastUpdatedBefore is the bound used,
so a client can start its next window there. Orders come in (date, id) order and NextToken
holds the last one returned, so orders that change meanwhile never shift a page. An order
shows its status as of now: Pending, Unshipped once paid, then Shipped or Canceled.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi import paging
from tools.sandbox.spapi.gate import MARKETPLACE_ID, admit, headers, invalid, iso, parse_iso
from tools.sandbox.spapi.ledger import PENDING, SHIPPED, Order, money
from tools.sandbox.spapi.state import SandboxState, error_response
from tools.spapi.plans import MIN_AGE_S, ORDERS_PAGE_SIZE

ORDERS_PATH = "/orders/v0/orders"
ORDER_ITEMS_PATH = "/orders/v0/orders/{orderId}/orderItems"
STATUSES = frozenset(
    {
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "Canceled",
        "Unfulfillable",
        "InvoiceUnconfirmed",
    }
)


def order_json(o: Order, now: float) -> dict[str, Any]:
    status, updated = o.status_at(now)
    quantity = sum(i.quantity for i in o.items)
    shipped = quantity if status == SHIPPED else 0
    out: dict[str, Any] = {
        "AmazonOrderId": o.order_id,
        "PurchaseDate": iso(o.purchased),
        "LastUpdateDate": iso(updated),
        "OrderStatus": status,
        "FulfillmentChannel": "AFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": "Std US D2D Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": 0 if status == "Canceled" else quantity - shipped,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "IsReplacementOrder": False,
        "MarketplaceId": MARKETPLACE_ID,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(o.purchased),
        "LatestShipDate": iso(o.purchased + 2 * 86400),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsGlobalExpressEnabled": False,
        "IsPremiumOrder": False,
        "IsSoldByAB": False,
        "IsIBA": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if status != PENDING:  # Amazon shows no total until payment is authorized
        out["OrderTotal"] = money(sum(i.price + i.tax for i in o.items))
    return out


def _when(q: Any, name: str) -> float | None:
    value = q.get(name)
    return None if not value else parse_iso(value)


def routes(state: SandboxState) -> list[Route]:
    async def get_orders(request: Request) -> JSONResponse:
        op = "getOrders"
        seller = await admit(request, state, op)
        if isinstance(seller, JSONResponse):
            return seller
        q = request.query_params
        if not q.get("MarketplaceIds"):
            return invalid(state, op, "Missing required parameter 'MarketplaceIds'")
        now = state.config.clock.now()
        pos: tuple[float, str] | None = None
        if q.get("NextToken"):
            try:
                tok = paging.read(state, op, seller, q["NextToken"])
                mode, after, before = str(tok["m"]), float(tok["a"]), float(tok["b"])
                statuses, size = list(tok["st"]), int(tok["n"])
                pos = (float(tok["p"][0]), str(tok["p"][1]))
            except (paging.BadToken, KeyError, TypeError, ValueError) as err:
                return invalid(state, op, str(err) or "The NextToken is not valid.")
        else:
            try:
                created, updated = _when(q, "CreatedAfter"), _when(q, "LastUpdatedAfter")
                created_b, updated_b = _when(q, "CreatedBefore"), _when(q, "LastUpdatedBefore")
            except ValueError:
                return invalid(state, op, "Dates must be ISO 8601 date-times")
            if created is None and updated is None:
                return invalid(state, op, "Either CreatedAfter or LastUpdatedAfter is required")
            if created is not None and (updated is not None or updated_b is not None):
                return invalid(
                    state,
                    op,
                    "LastUpdatedAfter and LastUpdatedBefore cannot be set with CreatedAfter",
                )
            if updated is not None and created_b is not None:
                return invalid(state, op, "CreatedBefore cannot be set with LastUpdatedAfter")
            mode = "c" if created is not None else "u"
            after = float(created if created is not None else updated)  # type: ignore[arg-type]
            latest = now - MIN_AGE_S
            given_b = created_b if mode == "c" else updated_b
            before = latest if given_b is None else given_b
            if before > latest:
                return invalid(state, op, "The Before date must be at least two minutes before now")
            if after > latest:
                return invalid(state, op, "The After date must be at least two minutes before now")
            if before < after:
                return invalid(state, op, "The Before date must be after the After date")
            statuses = [s for v in q.getlist("OrderStatuses") for s in v.split(",") if s]
            if any(s not in STATUSES for s in statuses):
                return invalid(state, op, "Invalid OrderStatuses value")
            try:
                size = int(q.get("MaxResultsPerPage") or ORDERS_PAGE_SIZE)
            except ValueError:
                return invalid(state, op, "MaxResultsPerPage must be an integer")
            if not 1 <= size <= 100:
                return invalid(state, op, "MaxResultsPerPage must be between 1 and 100")
        rows = (
            state.world.orders_created(seller, after, before, pos)
            if mode == "c"
            else state.world.orders_updated(seller, after, before, now, pos)
        )
        page: list[tuple[float, str, Order]] = []
        more = False
        for row in rows:
            if statuses and row[2].status_at(now)[0] not in statuses:
                continue
            if len(page) == size:
                more = True
                break
            page.append(row)
        payload: dict[str, Any] = {"Orders": [order_json(o, now) for _, _, o in page]}
        payload["CreatedBefore" if mode == "c" else "LastUpdatedBefore"] = iso(before)
        if more:
            last = page[-1]
            payload["NextToken"] = paging.issue(
                state,
                op,
                seller,
                {
                    "m": mode,
                    "a": after,
                    "b": before,
                    "st": statuses,
                    "n": size,
                    "p": [last[0], last[1]],
                },
            )
        return JSONResponse({"payload": payload}, headers=headers(state, op))

    async def get_order_items(request: Request) -> JSONResponse:
        op = "getOrderItems"
        seller = await admit(request, state, op)
        if isinstance(seller, JSONResponse):
            return seller
        now = state.config.clock.now()
        order_id = request.path_params["orderId"]
        order = state.world.order(seller, order_id, now)
        if order is None:
            return error_response(
                404,
                "NotFound",
                f"Order {order_id[:40]} was not found for this seller.",
                headers=headers(state, op),
            )
        status, _ = order.status_at(now)
        items = []
        for it in order.items:
            item: dict[str, Any] = {
                "ASIN": it.asin,
                "SellerSKU": it.sku,
                "OrderItemId": it.order_item_id,
                "Title": it.title,
                "QuantityOrdered": it.quantity,
                "QuantityShipped": it.quantity if status == SHIPPED else 0,
                "ProductInfo": {"NumberOfItems": "1"},
                "IsGift": "false",
                "ConditionId": it.condition_id,
                "ConditionSubtypeId": it.condition_subtype,
                "IsTransparency": False,
                "SerialNumberRequired": False,
            }
            if status != PENDING:  # no pricing before payment is authorized (documented)
                item.update(
                    ItemPrice=money(it.price),
                    ItemTax=money(it.tax),
                    ShippingPrice=money(0.0),
                    ShippingTax=money(0.0),
                    ShippingDiscount=money(0.0),
                    ShippingDiscountTax=money(0.0),
                    PromotionDiscount=money(0.0),
                    PromotionDiscountTax=money(0.0),
                    PromotionIds=[],
                )
            items.append(item)
        return JSONResponse(
            {"payload": {"AmazonOrderId": order.order_id, "OrderItems": items}},
            headers=headers(state, op),
        )

    return [
        Route(ORDERS_PATH, get_orders, methods=["GET"]),
        Route(ORDER_ITEMS_PATH, get_order_items, methods=["GET"]),
    ]

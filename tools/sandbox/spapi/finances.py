"""Finances API v0 `listFinancialEvents` (GET /finances/v0/financialEvents), in financesV0.json's
shapes: shipments in ShipmentEventList (ItemChargeList, ItemFeeList, ItemTaxWithheldList per
ShipmentItem), refunds in RefundEventList (ShipmentItemAdjustmentList).

PostedAfter (at least two minutes ago) to PostedBefore (default: two minutes ago); windows more
than 180 days wide answer nothing, as documented. Deferred events show only once released,
under their original PostedDate (documented: "deferred events don't show up in responses
until they are released"). MaxResultsPerPage (1-100) counts events;
NextToken continues from the last event returned.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi import paging
from tools.sandbox.spapi.gate import admit, headers, invalid, iso, parse_iso
from tools.sandbox.spapi.ledger import Event, EventItem, currency
from tools.sandbox.spapi.state import SandboxState
from tools.spapi.plans import FINANCES_MAX_WINDOW_DAYS, FINANCES_PAGE_SIZE, MIN_AGE_S

FINANCES_PATH = "/finances/v0/financialEvents"
OPERATION = "listFinancialEvents"
EVENT_LISTS = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "ChargebackEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
    "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList",
    "FBALiquidationEventList",
    "CouponPaymentEventList",
    "ImagingServicesFeeEventList",
    "NetworkComminglingTransactionEventList",
    "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList",
    "RemovalShipmentEventList",
    "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList",
    "TDSReimbursementEventList",
    "AdhocDisbursementEventList",
    "TaxWithholdingEventList",
    "ChargeRefundEventList",
    "FailedAdhocDisbursementEventList",
    "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
)


def _charges(values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"ChargeType": k, "ChargeAmount": currency(v)} for k, v in values.items()]


def _fees(values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"FeeType": k, "FeeAmount": currency(v)} for k, v in values.items()]


def _withheld(values: dict[str, float]) -> list[dict[str, Any]]:
    if not values:
        return []
    return [{"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": _charges(values)}]


def _item(it: EventItem, refund: bool) -> dict[str, Any]:
    if refund:
        return {
            "SellerSKU": it.sku,
            "OrderItemId": it.order_item_id,
            "OrderAdjustmentItemId": it.key,
            "QuantityShipped": it.quantity,
            "ItemChargeAdjustmentList": _charges(it.charges),
            "ItemFeeAdjustmentList": _fees(it.fees),
            "ItemTaxWithheldList": _withheld(it.withheld),
            "PromotionAdjustmentList": [],
        }
    return {
        "SellerSKU": it.sku,
        "OrderItemId": it.order_item_id,
        "QuantityShipped": it.quantity,
        "ItemChargeList": _charges(it.charges),
        "ItemFeeList": _fees(it.fees),
        "ItemTaxWithheldList": _withheld(it.withheld),
        "PromotionList": [],
    }


def event_json(e: Event) -> dict[str, Any]:
    refund = e.kind == "refund"
    return {
        "AmazonOrderId": e.order_id,
        "MarketplaceName": "Amazon.com",
        "PostedDate": iso(e.posted),
        ("ShipmentItemAdjustmentList" if refund else "ShipmentItemList"): [
            _item(it, refund) for it in e.items
        ],
    }


def routes(state: SandboxState) -> list[Route]:
    async def list_events(request: Request) -> JSONResponse:
        seller = await admit(request, state, OPERATION)
        if isinstance(seller, JSONResponse):
            return seller
        q = request.query_params
        now = state.config.clock.now()
        pos: tuple[float, str] | None = None
        if q.get("NextToken"):
            try:
                tok = paging.read(state, OPERATION, seller, q["NextToken"])
                after, before, size = float(tok["a"]), float(tok["b"]), int(tok["n"])
                pos = (float(tok["p"][0]), str(tok["p"][1]))
            except (paging.BadToken, KeyError, TypeError, ValueError) as err:
                return invalid(state, OPERATION, str(err) or "The NextToken is not valid.")
        else:
            if not q.get("PostedAfter"):
                return invalid(state, OPERATION, "PostedAfter is required")
            try:
                after = parse_iso(q["PostedAfter"])
                given = parse_iso(q["PostedBefore"]) if q.get("PostedBefore") else None
            except ValueError:
                return invalid(state, OPERATION, "Dates must be ISO 8601 date-times")
            latest = now - MIN_AGE_S
            if after > latest:
                return invalid(
                    state, OPERATION, "PostedAfter must be more than two minutes before now"
                )
            before = latest if given is None else given
            if before > latest:
                return invalid(
                    state, OPERATION, "PostedBefore must be more than two minutes before now"
                )
            elif before <= after:
                return invalid(state, OPERATION, "PostedBefore must be later than PostedAfter")
            try:
                size = int(q.get("MaxResultsPerPage") or FINANCES_PAGE_SIZE)
            except ValueError:
                return invalid(state, OPERATION, "MaxResultsPerPage must be an integer")
            if not 1 <= size <= 100:
                return invalid(state, OPERATION, "MaxResultsPerPage must be between 1 and 100")
        lists: dict[str, list[dict[str, Any]]] = {name: [] for name in EVENT_LISTS}
        payload: dict[str, Any] = {"FinancialEvents": lists}
        if before - after > FINANCES_MAX_WINDOW_DAYS * 86400:
            return JSONResponse({"payload": payload}, headers=headers(state, OPERATION))
        page: list[tuple[float, str, Event]] = []
        more = False
        for row in state.world.events(seller, after, before, pos, now):
            if len(page) == size:
                more = True
                break
            page.append(row)
        for _, _, e in page:
            lists["RefundEventList" if e.kind == "refund" else "ShipmentEventList"].append(
                event_json(e)
            )
        if more:
            last = page[-1]
            payload["NextToken"] = paging.issue(
                state,
                OPERATION,
                seller,
                {"a": after, "b": before, "n": size, "p": [last[0], last[1]]},
            )
        return JSONResponse({"payload": payload}, headers=headers(state, OPERATION))

    return [Route(FINANCES_PATH, list_events, methods=["GET"])]

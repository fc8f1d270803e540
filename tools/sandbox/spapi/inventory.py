"""FBA Inventory `getInventorySummaries` (GET /fba/inventory/v1/summaries): the seller's SKUs,
50 a page in SKU order, with `details=true` quantities, as fbaInventory.json documents them.

startDateTime returns only summaries changed since then; sellerSkus (up to 50) or sellerSku
narrow to those SKUs; nextToken continues a walk and expires 30 seconds after it was issued.
"""

from __future__ import annotations

import bisect
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi import paging
from tools.sandbox.spapi.gate import admit, headers, invalid, iso, parse_iso
from tools.sandbox.spapi.ledger import SkuView
from tools.sandbox.spapi.state import SandboxState
from tools.spapi.plans import INVENTORY_PAGE_SIZE

INVENTORY_PATH = "/fba/inventory/v1/summaries"
OPERATION = "getInventorySummaries"
MAX_SKUS = 50
EIGHTEEN_MONTHS_S = 548 * 86400.0


def summary(v: SkuView, details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "asin": v.asin,
        "fnSku": v.fnsku,
        "sellerSku": v.sku,
        "condition": v.condition,
        "lastUpdatedTime": iso(v.updated),
        "productName": v.title,
        "totalQuantity": v.total,
    }
    if details:
        out["inventoryDetails"] = {
            "fulfillableQuantity": v.fulfillable,
            "inboundWorkingQuantity": v.inbound_working,
            "inboundShippedQuantity": v.inbound_shipped,
            "inboundReceivingQuantity": v.inbound_receiving,
            "reservedQuantity": {
                "totalReservedQuantity": v.reserved,
                "pendingCustomerOrderQuantity": v.reserved,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": 0,
            },
            "researchingQuantity": {
                "totalResearchingQuantity": v.researching,
                "researchingQuantityBreakdown": [],
            },
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": v.unfulfillable,
                "customerDamagedQuantity": 0,
                "warehouseDamagedQuantity": v.unfulfillable,
                "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0,
                "expiredQuantity": 0,
            },
        }
    return out


def routes(state: SandboxState) -> list[Route]:
    async def summaries(request: Request) -> JSONResponse:
        seller = await admit(request, state, OPERATION)
        if isinstance(seller, JSONResponse):
            return seller
        q = request.query_params
        for name in ("granularityType", "granularityId", "marketplaceIds"):
            if not q.get(name):
                return invalid(state, OPERATION, f"Missing required parameter '{name}'")
        if q["granularityType"] != "Marketplace":
            return invalid(state, OPERATION, "granularityType must be Marketplace")
        now = state.config.clock.now()
        details = (q.get("details") or "false").lower() == "true"
        wanted = [s for s in q.getlist("sellerSkus") for s in s.split(",") if s]
        if len(wanted) > MAX_SKUS:
            return invalid(state, OPERATION, f"sellerSkus takes at most {MAX_SKUS} SKUs")
        since: float | None = None
        if q.get("startDateTime"):
            try:
                since = parse_iso(q["startDateTime"])
            except ValueError:
                return invalid(state, OPERATION, "startDateTime is not an ISO 8601 date-time")
            if since < now - EIGHTEEN_MONTHS_S:
                return invalid(state, OPERATION, "startDateTime is more than 18 months ago")
        after = ""
        if q.get("nextToken"):
            try:
                after = str(paging.read(state, OPERATION, seller, q["nextToken"])["after"])
            except (paging.BadToken, KeyError) as err:
                return invalid(state, OPERATION, str(err))
        views = state.world.skus(seller, now)
        if since is not None:
            views = [v for v in views if v.updated >= since]
        elif wanted:
            keep = set(wanted)
            views = [v for v in views if v.sku in keep]
        elif q.get("sellerSku"):
            views = [v for v in views if v.sku == q["sellerSku"]]
        start = bisect.bisect_right([v.sku for v in views], after) if after else 0
        page = views[start : start + INVENTORY_PAGE_SIZE]
        body: dict[str, Any] = {
            "payload": {
                "granularity": {
                    "granularityType": "Marketplace",
                    "granularityId": q["granularityId"],
                },
                "inventorySummaries": [summary(v, details) for v in page],
            }
        }
        if start + INVENTORY_PAGE_SIZE < len(views):
            body["pagination"] = {
                "nextToken": paging.issue(state, OPERATION, seller, {"after": page[-1].sku})
            }
        return JSONResponse(body, headers=headers(state, OPERATION))

    return [Route(INVENTORY_PATH, summaries, methods=["GET"])]

"""The sandbox's own control API (not part of SP-API), for a sandbox served over HTTP:
give a seller a seeded history, or send units in as that seller (they then arrive and sell
on the world's clock). The in-process sandbox is controlled through `state.world` directly.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi.fulfilment import CONDITION_NAMES, Shipment
from tools.sandbox.spapi.history import HistorySpec
from tools.sandbox.spapi.state import SandboxState, error_response

SHIPMENTS_PATH = "/sandbox/v1/sellers/{sellerId}/shipments"
HISTORY_PATH = "/sandbox/v1/sellers/{sellerId}/history"
MAX_SEEDED_ORDERS = 1_000_000
MAX_SEEDED_SKUS = 200_000


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    if int(request.headers.get("content-length") or 0) > 64_000:
        return error_response(413, "InvalidInput", "body too large")
    try:
        body = await request.json()
    except ValueError:
        return error_response(400, "InvalidInput", "body must be JSON")
    if not isinstance(body, dict):
        return error_response(400, "InvalidInput", "body must be a JSON object")
    return body


def routes(state: SandboxState) -> list[Route]:
    async def shipments(request: Request) -> JSONResponse:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            shipment = Shipment(
                sku=str(body["sku"])[:100],
                asin=str(body["asin"]).strip().upper()[:10],
                condition=str(body.get("condition") or "used_good"),
                quantity=int(body.get("quantity", 1)),
                price=float(body["price"]),
                sent_at=float(body.get("sentAt") or state.config.clock.now()),
                title=str(body["title"])[:500] if body.get("title") else None,
            )
        except (KeyError, TypeError, ValueError) as err:
            return error_response(400, "InvalidInput", f"bad shipment: {err}")
        if not 1 <= shipment.quantity <= 1000 or shipment.price <= 0:
            return error_response(400, "InvalidInput", "quantity 1-1000 and a positive price")
        if shipment.condition not in CONDITION_NAMES:
            return error_response(400, "InvalidInput", f"unknown condition {shipment.condition}")
        state.world.register(request.path_params["sellerId"], shipment)
        return JSONResponse({"registered": shipment.sku}, status_code=201)

    async def history(request: Request) -> JSONResponse:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            spec = HistorySpec(
                n_skus=int(body["skus"]),
                n_orders=int(body["orders"]),
                end=float(body.get("end") or state.config.clock.now()),
                days=float(body.get("days", 365)),
                future_days=float(body.get("futureDays", 30)),
                refund_rate=float(body.get("refundRate", 0.03)),
                seed=int(body.get("seed", 0)),
            )
        except (KeyError, TypeError, ValueError) as err:
            return error_response(400, "InvalidInput", f"bad history: {err}")
        if not (0 <= spec.n_skus <= MAX_SEEDED_SKUS and 0 <= spec.n_orders <= MAX_SEEDED_ORDERS):
            return error_response(400, "InvalidInput", "too many SKUs or orders")
        if not (0 < spec.days <= 3650 and 0 <= spec.future_days <= 3650):
            return error_response(400, "InvalidInput", "days out of range")
        state.world.seed(request.path_params["sellerId"], spec)
        return JSONResponse({"seeded": request.path_params["sellerId"]}, status_code=201)

    return [
        Route(SHIPMENTS_PATH, shipments, methods=["POST"]),
        Route(HISTORY_PATH, history, methods=["POST"]),
    ]

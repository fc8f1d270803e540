"""The Keepa-compatible HTTP app (Starlette) over a SandboxMarket.

Same paths, parameters, JSON shapes and token envelope as api.keepa.com, with Keepa's token
rules enforced by the market's bucket. Used in-process through httpx.ASGITransport (embedded
default, tests) and standalone via `arbitrage sandbox serve`.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tools.keepa import costs
from tools.sandbox.keepa.core import SandboxError
from tools.sandbox.keepa.market import SandboxMarket

MAX_ASINS = 100


class _Faults:
    """Test hook: make the next N requests fail with an HTTP status (no tokens charged)."""

    def __init__(self) -> None:
        self.pending: list[int] = []

    def inject(self, status: int, count: int = 1) -> None:
        self.pending.extend([status] * count)

    def take(self) -> int | None:
        return self.pending.pop(0) if self.pending else None


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
    )


def _int(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SandboxError(400, f"parameter {name} must be an integer") from None


def _selection(params: dict[str, str]) -> dict[str, Any]:
    raw = params.get("selection")
    if not raw:
        raise SandboxError(400, "selection is required")
    try:
        sel = json.loads(raw)
    except ValueError:
        raise SandboxError(400, "selection is not valid JSON") from None
    if not isinstance(sel, dict):
        raise SandboxError(400, "selection must be a JSON object")
    return sel


def create_app(market: SandboxMarket, journal: TextIO | None = None) -> Starlette:
    """The app; `journal` (optional) gets one JSON line per request: market time, path,
    HTTP status, tokens charged and left, and for /product/ the ASINs and whether offers
    were asked (`arbitrage sandbox serve --journal`: audits of 429s, the token floor and
    duplicate fetches across many client processes)."""
    faults = _Faults()

    def note(name: str, status: int, cost: int, params: dict[str, str]) -> None:
        if journal is None:
            return
        entry: dict[str, Any] = {
            "t": round(market.clock.now(), 3),
            "path": name,
            "status": status,
            "cost": cost,
            "left": market.tokens.balance(),
        }
        if name == "product":
            entry["asins"] = [a for a in (params.get("asin") or "").split(",") if a.strip()]
            entry["offers"] = bool(params.get("offers"))
        journal.write(json.dumps(entry) + "\n")

    def _product(params: dict[str, str]) -> tuple[dict[str, Any], int]:
        asins = [a for a in (params.get("asin") or "").split(",") if a.strip()]
        if params.get("code"):
            raise SandboxError(400, "the sandbox does not support code= lookups")
        if not asins:
            raise SandboxError(400, "asin is required")
        if len(asins) > MAX_ASINS:
            raise SandboxError(400, f"at most {MAX_ASINS} ASINs per request")
        offers = _int(params, "offers")
        if offers is not None and not 20 <= offers <= 100:
            raise SandboxError(400, "offers must be between 20 and 100")
        stats = _int(params, "stats")
        history = _int(params, "history", 1) != 0
        found = market.products(  # arrays: csv as numpy, orjson writes it
            asins,
            stats=stats,
            history=history,
            offers=offers,
            buybox=_int(params, "buybox", 0) == 1,
            rating=_int(params, "rating", 0) == 1,
            update=_int(params, "update"),
            days=_int(params, "days"),
            arrays=True,
        )
        products, cost = [], 0
        for res in found:
            if res is not None:
                products.append(res[0])
                cost += res[1]
        return {"products": products}, cost

    def _deal(params: dict[str, str]) -> tuple[dict[str, Any], int]:
        return {"deals": market.deals(_selection(params))}, costs.deal_charge()

    def _query(params: dict[str, str]) -> tuple[dict[str, Any], int]:
        asins, total = market.query(_selection(params))
        return {"asinList": asins, "totalResults": total}, costs.finder_charge(len(asins))

    def _seller(params: dict[str, str]) -> tuple[dict[str, Any], int]:
        ids = [s for s in (params.get("seller") or "").split(",") if s.strip()]
        if not ids or len(ids) > 100:
            raise SandboxError(400, "seller must list 1 to 100 seller ids")
        sellers = {sid: s for sid in ids if (s := market.seller(sid.strip())) is not None}
        storefront = _int(params, "storefront", 0) == 1
        return {"sellers": sellers}, costs.seller_charge(len(ids), storefront)

    def _category(params: dict[str, str]) -> tuple[dict[str, Any], int]:
        raw = params.get("category") or ""
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()]
        except ValueError:
            raise SandboxError(400, "category must be integer ids") from None
        if not ids:
            raise SandboxError(400, "category is required")
        cats = {str(c): obj for c in ids if (obj := market.category(c)) is not None}
        return {"categories": cats, "categoryParents": {}}, costs.category_charge(len(ids))

    handlers = {
        "product": _product,
        "deal": _deal,
        "query": _query,
        "seller": _seller,
        "category": _category,
    }

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        name = request.url.path.strip("/").split("/")[0]
        params = dict(request.query_params)
        if request.method == "POST":
            body = (await request.body()).decode() or ""
            if body and "selection" not in params:
                params["selection"] = body
        tokens = market.tokens
        if not params.get("key"):
            return _json(
                {
                    **tokens.envelope(0),
                    "error": {
                        "type": "PAYMENT_REQUIRED",
                        "message": "missing or invalid access key",
                    },
                },
                402,
            )
        if name == "token":
            return _json(tokens.envelope(0))
        fault = faults.take()
        if fault is not None:
            return _json(
                {**tokens.envelope(0), "error": {"type": "INJECTED", "message": "injected fault"}},
                fault,
            )
        if not tokens.try_start():
            note(name, 429, 0, params)
            return _json(
                {
                    **tokens.envelope(0),
                    "error": {"type": "NOT_ENOUGH_TOKEN", "message": "not enough tokens"},
                },
                429,
            )
        try:
            body_out, cost = await run_in_threadpool(handlers[name], params)
        except SandboxError as err:
            return _json(
                {**tokens.envelope(0), "error": {"type": "REQUEST_REJECTED", "message": str(err)}},
                err.status,
            )
        tokens.charge(cost)
        note(name, 200, cost, params)
        ms = int((time.perf_counter() - started) * 1000)
        return _json({**body_out, **tokens.envelope(cost, ms)})

    routes = []
    for path in ("token", *handlers):
        routes.append(Route(f"/{path}", endpoint, methods=["GET", "POST"]))
        routes.append(Route(f"/{path}/", endpoint, methods=["GET", "POST"]))
    app = Starlette(routes=routes)
    app.state.market = market
    app.state.faults = faults
    return app

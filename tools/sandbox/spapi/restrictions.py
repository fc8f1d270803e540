"""SP-API's listings restrictions endpoint: may this seller list this ASIN in this condition?

Answers are deterministic per ASIN (about 20 % APPROVAL_REQUIRED with an approval link, 5 %
NOT_ELIGIBLE, 3 % ASIN_NOT_FOUND, the rest unrestricted); faults (429, 500) come from the
state's plan or rates.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.restrictions.conditions import CONDITION_TYPES
from tools.sandbox.spapi.state import SandboxState, error_response

RESTRICTIONS_PATH = "/listings/2021-08-01/restrictions"
SELLER_CENTRAL = "https://sellercentral.amazon.com"


def sandbox_reason(asin: str, seed: int = 0) -> str | None:
    """The reason code the sandbox answers for an ASIN (None: free to list)."""
    bucket = int(hashlib.sha256(f"{seed}:{asin.upper()}".encode()).hexdigest()[:8], 16) % 1000
    if bucket < 30:
        return "ASIN_NOT_FOUND"
    if bucket < 80:
        return "NOT_ELIGIBLE"
    if bucket < 280:
        return "APPROVAL_REQUIRED"
    return None


def _reason(asin: str, condition: str, code: str) -> dict[str, Any]:
    if code == "ASIN_NOT_FOUND":
        return {"message": f"ASIN {asin} was not found in the Amazon catalog.", "reasonCode": code}
    if code == "NOT_ELIGIBLE":
        return {
            "message": "This product is not eligible for listing by third-party sellers.",
            "reasonCode": code,
        }
    pretty = condition.replace("_", " ")
    return {
        "message": f"You need approval to list this product in the {pretty} condition.",
        "reasonCode": code,
        "links": [
            {
                "resource": f"{SELLER_CENTRAL}/hz/approvalrequest/restrictions/approve"
                f"?asin={asin}&itemcondition={condition}",
                "verb": "GET",
                "title": "Request Approval via Seller Central.",
                "type": "text/html",
            }
        ],
    }


def routes(state: SandboxState) -> list[Route]:
    async def restrictions(request: Request) -> JSONResponse:
        if state.config.latency_s:
            import asyncio

            await asyncio.sleep(state.config.latency_s)
        q = request.query_params
        asin = q.get("asin")
        problem = state.token_problem(request.headers.get("x-amz-access-token"))
        if problem:
            state.record(asin, 403)
            return error_response(
                403, "Unauthorized", "Access to requested resource is denied.", problem
            )
        missing = [p for p in ("asin", "sellerId", "marketplaceIds") if not q.get(p)]
        if missing:
            state.record(asin, 400)
            return error_response(400, "InvalidInput", f"Missing required parameter '{missing[0]}'")
        condition = q.get("conditionType") or ""
        if condition and condition not in CONDITION_TYPES:
            state.record(asin, 400)
            return error_response(400, "InvalidInput", f"Invalid conditionType '{condition}'")
        assert asin is not None
        fault = state.next_fault(asin)
        if fault == 429:
            state.record(asin, 429)
            headers = (
                {"Retry-After": f"{state.config.retry_after_s:g}"}
                if state.config.retry_after_s is not None
                else None
            )
            return error_response(
                429,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
                headers=headers,
            )
        if fault is not None and fault >= 500:
            state.record(asin, fault)
            return error_response(
                fault, "InternalFailure", "We encountered an internal error. Please try again."
            )
        state.record(asin, 200)
        code = sandbox_reason(asin, state.config.seed)
        marketplace = q["marketplaceIds"].split(",")[0]
        if code is None:
            return JSONResponse({"restrictions": []})
        return JSONResponse(
            {
                "restrictions": [
                    {
                        "marketplaceId": marketplace,
                        **({"conditionType": condition} if condition else {}),
                        "reasons": [_reason(asin, condition or "new_new", code)],
                    }
                ]
            }
        )

    return [Route(RESTRICTIONS_PATH, restrictions, methods=["GET"])]

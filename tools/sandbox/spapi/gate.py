"""What every data operation does before answering: check the access token (403), take a
request from the seller's usage plan (429 QuotaExceeded), serve injected faults, and add
SP-API's response headers. The seller is whoever the access token was issued for."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse

from tools.sandbox.spapi.state import SandboxState, error_response

MARKETPLACE_ID = "ATVPDKIKX0DER"


def headers(state: SandboxState, operation: str) -> dict[str, str]:
    out = {"x-amzn-RequestId": secrets.token_hex(8)}
    plans = state.config.usage_plans
    plan = plans.get(operation) if plans is not None else None
    if plan is not None:
        out["x-amzn-RateLimit-Limit"] = f"{plan.rate:g}"
    return out


async def admit(request: Request, state: SandboxState, operation: str) -> str | JSONResponse:
    """The seller id, or the error response SP-API would give instead."""
    if state.config.latency_s:
        await asyncio.sleep(state.config.latency_s)
    token = request.headers.get("x-amz-access-token")
    problem = state.token_problem(token)
    if problem:
        state.record(None, 403, operation)
        return error_response(
            403, "Unauthorized", "Access to requested resource is denied.", problem
        )
    seller = state.token_seller(token) or "A2SANDBOXSELLER"
    fault = state.next_fault(operation)
    if fault == 429 or (fault is None and not state.within_plan(seller, operation)):
        state.record(None, 429, operation)
        extra = (
            {"Retry-After": f"{state.config.retry_after_s:g}"}
            if state.config.retry_after_s is not None
            else {}
        )
        return error_response(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            headers={**headers(state, operation), **extra},
        )
    if fault is not None and fault >= 500:
        state.record(None, fault, operation)
        return error_response(
            fault, "InternalFailure", "We encountered an internal error. Please try again."
        )
    state.record(None, 200, operation)
    return seller


def invalid(state: SandboxState, operation: str, message: str) -> JSONResponse:
    return error_response(400, "InvalidInput", message, headers=headers(state, operation))


def iso(t: float) -> str:
    """SP-API's ISO 8601 timestamps: UTC with a Z, whole seconds."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """An ISO 8601 date-time (Z or an offset; a date alone is midnight UTC) -> epoch seconds."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()

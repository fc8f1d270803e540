"""The restrictions sandbox: an HTTP app speaking SP-API's listings restrictions protocol and
Login with Amazon's token endpoint.

It gives the embedded default (no SPAPI_* settings) and the tests a real server to talk to, so
the production client runs unchanged against it: in-process through httpx's ASGI transport, or
over real HTTP when served (`arbitrage sandbox serve`, the tests' uvicorn helper).

Answers are deterministic per ASIN (about 20 % APPROVAL_REQUIRED with an approval link, 5 %
NOT_ELIGIBLE, 3 % ASIN_NOT_FOUND, the rest unrestricted). Access tokens are HMAC-signed with
an expiry, so any sandbox instance (every worker process has its own in-process one) accepts
a token another instance issued. Faults (429, 500) can be injected per ASIN or at a rate.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.restrictions.conditions import CONDITION_TYPES

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.restrictions-sandbox"
SANDBOX_CLIENT_SECRET = "restrictions-sandbox-secret"
SANDBOX_REFRESH_TOKEN = "Atzr|restrictions-sandbox-refresh-token"
SANDBOX_SELLER_ID = "A2SANDBOXSELLER"
BAD_REFRESH_TOKEN = "Atzr|revoked-refresh-token"
RESTRICTIONS_PATH = "/listings/2021-08-01/restrictions"
LWA_PATH = "/auth/o2/token"
SELLER_CENTRAL = "https://sellercentral.amazon.com"

_TOKEN_PREFIX = "Atza|sbx."


@dataclass
class SandboxConfig:
    """How the sandbox behaves; every field has the embedded default's value."""

    seed: int = 0
    token_ttl_s: int = 3600
    signing_key: str = "agent-arbitrage-restrictions-sandbox"
    bad_refresh_tokens: frozenset[str] = frozenset({BAD_REFRESH_TOKEN})
    # asin -> HTTP statuses answered on that ASIN's next calls, before the normal answer.
    fault_plan: dict[str, list[int]] = field(default_factory=dict)
    rate_429: float = 0.0
    rate_500: float = 0.0
    retry_after_s: float | None = None  # sent with 429s when set
    latency_s: float = 0.0


@dataclass
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    asin: str | None
    status: int


class SandboxState:
    """Mutable server state: the fault plan being consumed and what was asked (for tests)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.requests: list[RecordedRequest] = []
        self.token_requests = 0
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._plan = {asin: list(codes) for asin, codes in config.fault_plan.items()}

    def inject(self, asin: str, *statuses: int) -> None:
        with self._lock:
            self._plan.setdefault(asin, []).extend(statuses)

    def next_fault(self, asin: str) -> int | None:
        with self._lock:
            planned = self._plan.get(asin)
            if planned:
                return planned.pop(0)
            roll = self._rng.random()
        if roll < self.config.rate_429:
            return 429
        if roll < self.config.rate_429 + self.config.rate_500:
            return 500
        return None

    def record(self, asin: str | None, status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(time.monotonic(), asin, status))

    # ---- tokens ---------------------------------------------------------------------------

    def _sign(self, payload: str) -> str:
        key = self.config.signing_key.encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:40]

    def issue_token(self) -> str:
        payload = f"{int(time.time()) + self.config.token_ttl_s}.{secrets.token_hex(8)}"
        return f"{_TOKEN_PREFIX}{payload}.{self._sign(payload)}"

    def token_problem(self, token: str | None) -> str | None:
        """None when the token is valid, else SP-API's `details` text for the 403."""
        if not token or not token.startswith(_TOKEN_PREFIX):
            return "The access token you provided is invalid."
        payload, _, sig = token[len(_TOKEN_PREFIX):].rpartition(".")
        if not hmac.compare_digest(sig, self._sign(payload)):
            return "The access token you provided is invalid."
        try:
            expires = int(payload.split(".", 1)[0])
        except ValueError:
            return "The access token you provided is invalid."
        if expires <= time.time():
            return "The access token you provided has expired."
        return None


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
        return {"message": f"ASIN {asin} was not found in the Amazon catalog.",
                "reasonCode": code}
    if code == "NOT_ELIGIBLE":
        return {"message": "This product is not eligible for listing by third-party sellers.",
                "reasonCode": code}
    pretty = condition.replace("_", " ")
    return {
        "message": f"You need approval to list this product in the {pretty} condition.",
        "reasonCode": code,
        "links": [{
            "resource": f"{SELLER_CENTRAL}/hz/approvalrequest/restrictions/approve"
                        f"?asin={asin}&itemcondition={condition}",
            "verb": "GET",
            "title": "Request Approval via Seller Central.",
            "type": "text/html",
        }],
    }


def _errors(status: int, code: str, message: str, details: str = "",
            headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, "details": details}]},
                        status_code=status, headers=headers)


def make_restrictions_sandbox_app(config: SandboxConfig | None = None) -> Starlette:
    """A Starlette app serving the restrictions API and a fake LWA token endpoint.

    `app.state.sandbox` is the SandboxState (fault injection, recorded requests). The app can
    be mounted under a prefix; both endpoints are relative to it.
    """
    state = SandboxState(config or SandboxConfig())

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        state.token_requests += 1
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "grant_type must be refresh_token"}, 400)
        refresh = str(form.get("refresh_token") or "")
        if not form.get("client_id") or not form.get("client_secret"):
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "Client authentication failed"}, 401)
        if not refresh:
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "refresh_token is required"}, 400)
        if refresh in state.config.bad_refresh_tokens:
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "The request has an invalid grant "
                                                      "parameter : refresh_token"}, 400)
        return JSONResponse({"access_token": state.issue_token(), "refresh_token": refresh,
                             "token_type": "bearer", "expires_in": state.config.token_ttl_s})

    async def restrictions(request: Request) -> JSONResponse:
        if state.config.latency_s:
            import asyncio

            await asyncio.sleep(state.config.latency_s)
        q = request.query_params
        asin = q.get("asin")
        problem = state.token_problem(request.headers.get("x-amz-access-token"))
        if problem:
            state.record(asin, 403)
            return _errors(403, "Unauthorized", "Access to requested resource is denied.",
                           problem)
        missing = [p for p in ("asin", "sellerId", "marketplaceIds") if not q.get(p)]
        if missing:
            state.record(asin, 400)
            return _errors(400, "InvalidInput", f"Missing required parameter '{missing[0]}'")
        condition = q.get("conditionType") or ""
        if condition and condition not in CONDITION_TYPES:
            state.record(asin, 400)
            return _errors(400, "InvalidInput", f"Invalid conditionType '{condition}'")
        assert asin is not None
        fault = state.next_fault(asin)
        if fault == 429:
            state.record(asin, 429)
            headers = ({"Retry-After": f"{state.config.retry_after_s:g}"}
                       if state.config.retry_after_s is not None else None)
            return _errors(429, "QuotaExceeded",
                           "You exceeded your quota for the requested resource.", headers=headers)
        if fault is not None and fault >= 500:
            state.record(asin, fault)
            return _errors(fault, "InternalFailure",
                           "We encountered an internal error. Please try again.")
        state.record(asin, 200)
        code = sandbox_reason(asin, state.config.seed)
        marketplace = q["marketplaceIds"].split(",")[0]
        if code is None:
            return JSONResponse({"restrictions": []})
        return JSONResponse({"restrictions": [{
            "marketplaceId": marketplace,
            **({"conditionType": condition} if condition else {}),
            "reasons": [_reason(asin, condition or "new_new", code)],
        }]})

    app = Starlette(routes=[
        Route(LWA_PATH, token, methods=["POST"]),
        Route(RESTRICTIONS_PATH, restrictions, methods=["GET"]),
    ])
    app.state.sandbox = state
    return app


def serve_restrictions_sandbox(host: str = "127.0.0.1", port: int = 8010,
                               config: SandboxConfig | None = None, *,
                               background: bool = False) -> Any:
    """Serve the sandbox with uvicorn: blocking, or in a daemon thread (returns the server;
    set `server.should_exit = True` to stop it)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(make_restrictions_sandbox_app(config), host=host,
                                           port=port, log_level="warning"))
    if not background:
        server.run()
        return server
    thread = threading.Thread(target=server.run, name="restrictions-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"restrictions sandbox could not listen on {host}:{port}")
    return server

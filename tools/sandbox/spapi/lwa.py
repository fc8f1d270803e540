"""Login with Amazon's token endpoint: refresh token in, short-lived access token out.

A refresh token is one seller's authorization, so the access token names that seller:
`Atzr|sandbox-seller|A2SELLERID` authorizes seller A2SELLERID (tests and benches make as
many sellers as they need), any other accepted token the default sandbox seller.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi.state import SandboxState

LWA_PATH = "/auth/o2/token"
SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.restrictions-sandbox"
SANDBOX_CLIENT_SECRET = "restrictions-sandbox-secret"
SANDBOX_REFRESH_TOKEN = "Atzr|restrictions-sandbox-refresh-token"
SANDBOX_SELLER_ID = "A2SANDBOXSELLER"
SELLER_TOKEN_PREFIX = "Atzr|sandbox-seller|"
_SELLER_ID = re.compile(r"^[A-Z0-9]{8,20}$")


def refresh_token_for(seller_id: str) -> str:
    """The sandbox refresh token that authorizes `seller_id`."""
    return SELLER_TOKEN_PREFIX + seller_id


def seller_of(refresh_token: str) -> str:
    """The seller a sandbox refresh token authorizes."""
    if refresh_token.startswith(SELLER_TOKEN_PREFIX):
        seller = refresh_token[len(SELLER_TOKEN_PREFIX) :].upper()
        if _SELLER_ID.match(seller):
            return seller
    return SANDBOX_SELLER_ID


def routes(state: SandboxState) -> list[Route]:
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        state.token_requests += 1
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be refresh_token",
                },
                400,
            )
        refresh = str(form.get("refresh_token") or "")
        if not form.get("client_id") or not form.get("client_secret"):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        if not refresh:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "refresh_token is required"}, 400
            )
        if refresh in state.config.bad_refresh_tokens:
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant "
                    "parameter : refresh_token",
                },
                400,
            )
        return JSONResponse(
            {
                "access_token": state.issue_token(seller_of(refresh)),
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": state.config.token_ttl_s,
            }
        )

    return [Route(LWA_PATH, token, methods=["POST"])]

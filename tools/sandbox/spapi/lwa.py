"""Login with Amazon's token endpoint: refresh token in, short-lived access token out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.sandbox.spapi.state import SandboxState

LWA_PATH = "/auth/o2/token"
SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.restrictions-sandbox"
SANDBOX_CLIENT_SECRET = "restrictions-sandbox-secret"
SANDBOX_REFRESH_TOKEN = "Atzr|restrictions-sandbox-refresh-token"
SANDBOX_SELLER_ID = "A2SANDBOXSELLER"


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
                "access_token": state.issue_token(),
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": state.config.token_ttl_s,
            }
        )

    return [Route(LWA_PATH, token, methods=["POST"])]

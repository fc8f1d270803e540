"""The SP-API sandbox: Login with Amazon (lwa.py) and SP-API's listing restrictions
(restrictions.py) over one shared state (state.py), composed and served by app.py."""

from tools.sandbox.spapi.app import make_restrictions_sandbox_app, serve_restrictions_sandbox
from tools.sandbox.spapi.lwa import (
    LWA_PATH,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_SELLER_ID,
)
from tools.sandbox.spapi.restrictions import RESTRICTIONS_PATH, sandbox_reason
from tools.sandbox.spapi.state import BAD_REFRESH_TOKEN, SandboxConfig, SandboxState

__all__ = [
    "BAD_REFRESH_TOKEN",
    "LWA_PATH",
    "RESTRICTIONS_PATH",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_SELLER_ID",
    "SandboxConfig",
    "SandboxState",
    "make_restrictions_sandbox_app",
    "sandbox_reason",
    "serve_restrictions_sandbox",
]

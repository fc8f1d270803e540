"""The SP-API sandbox: listing restrictions and Login with Amazon's token endpoint."""

from tools.sandbox.spapi.app import (
    BAD_REFRESH_TOKEN,
    LWA_PATH,
    RESTRICTIONS_PATH,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_SELLER_ID,
    SandboxConfig,
    SandboxState,
    make_restrictions_sandbox_app,
    sandbox_reason,
    serve_restrictions_sandbox,
)

__all__ = [
    "BAD_REFRESH_TOKEN", "LWA_PATH", "RESTRICTIONS_PATH", "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET", "SANDBOX_REFRESH_TOKEN", "SANDBOX_SELLER_ID", "SandboxConfig",
    "SandboxState", "make_restrictions_sandbox_app", "sandbox_reason",
    "serve_restrictions_sandbox",
]

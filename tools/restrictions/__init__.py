"""Amazon listing restrictions (gating): can this seller list this ASIN in this condition?

SP-API client with Login with Amazon tokens, a Redis-shared rate limit, encrypted per-user
credentials, stored results and a bulk checker (the SP-API sandbox is tools.sandbox.spapi).

Names are imported lazily (PEP 562) so the CLI can register `arbitrage restrictions` without
paying for httpx, Redis and Starlette on every `arbitrage` start.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "check_all_for_user": "bulk",
    "check_all_for_user_sync": "bulk",
    "restrictions_progress": "progress",
    "DEFAULT_CONDITION": "conditions",
    "UnknownCondition": "conditions",
    "to_condition_type": "conditions",
    "CredentialError": "credentials",
    "CredentialView": "credentials",
    "connect_account": "credentials",
    "credential_view": "credentials",
    "disconnect_account": "credentials",
    "NotConnected": "errors",
    "RateLimitTimeout": "errors",
    "ReconnectRequired": "errors",
    "RestrictionsError": "errors",
    "SpApiError": "errors",
    "InvalidRequest": "service",
    "RestrictionChecker": "service",
    "check_restriction": "service",
    "check_restriction_sync": "service",
    "RestrictionResult": "store",
    "stored_results": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tools.restrictions' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tools.restrictions.{module}"), name)
    globals()[name] = value
    return value

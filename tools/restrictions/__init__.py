"""Amazon listing restrictions (gating): can this seller list this ASIN in this condition?

SP-API client with Login with Amazon tokens, a Redis-shared rate limit, encrypted per-user
credentials, stored results, a bulk checker, and a sandbox server speaking the same protocol.
"""

from tools.restrictions.bulk import (
    check_all_for_user,
    check_all_for_user_sync,
    restrictions_progress,
)
from tools.restrictions.conditions import DEFAULT_CONDITION, UnknownCondition, to_condition_type
from tools.restrictions.credentials import (
    CredentialError,
    CredentialView,
    connect_account,
    credential_view,
    disconnect_account,
)
from tools.restrictions.errors import (
    NotConnected,
    RateLimitTimeout,
    ReconnectRequired,
    RestrictionsError,
    SpApiError,
)
from tools.restrictions.sandbox import SandboxConfig, make_restrictions_sandbox_app
from tools.restrictions.service import (
    InvalidRequest,
    RestrictionChecker,
    check_restriction,
    check_restriction_sync,
)
from tools.restrictions.store import RestrictionResult, stored_results

__all__ = [
    "DEFAULT_CONDITION", "CredentialError", "CredentialView", "InvalidRequest", "NotConnected",
    "RateLimitTimeout", "ReconnectRequired", "RestrictionChecker", "RestrictionResult",
    "RestrictionsError", "SandboxConfig", "SpApiError", "UnknownCondition", "check_all_for_user",
    "check_all_for_user_sync", "check_restriction", "check_restriction_sync", "connect_account",
    "credential_view", "disconnect_account", "make_restrictions_sandbox_app",
    "restrictions_progress", "stored_results", "to_condition_type",
]

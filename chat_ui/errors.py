"""Errors a seller can act on: what went wrong and what to do, never a stack trace.

The full exception goes to the server log (with an id the user sees), the chat gets one
sentence and the next step.
"""

from __future__ import annotations

import logging
import math
import uuid

from tools.keepa.errors import KeepaError, KeepaPaymentRequired, KeepaTokensExhausted
from tools.restrictions.errors import NotConnected, ReconnectRequired, RestrictionsError

log = logging.getLogger("chat_ui")

KEEPA_REFILL_PER_MIN_DEFAULT = 20


def _minutes_until_fresh(exc: BaseException) -> int:
    envelope = getattr(exc, "envelope", None) or {}
    refill_in_ms = envelope.get("refillIn")
    if isinstance(refill_in_ms, int | float) and refill_in_ms > 0:
        return max(1, math.ceil(refill_in_ms / 60_000))
    cost = getattr(exc, "cost", None) or 0
    rate = envelope.get("refillRate") or KEEPA_REFILL_PER_MIN_DEFAULT
    return max(1, math.ceil(cost / rate)) if cost else 5


def user_message(exc: BaseException) -> str:
    """One friendly paragraph for the chat; logs the exception with a reference id."""
    ref = uuid.uuid4().hex[:8]
    name = type(exc).__name__
    if isinstance(exc, KeepaTokensExhausted):
        log.warning("keepa budget exhausted [%s]: %s", ref, exc)
        return (
            f"The Keepa token budget is used up right now, so I can't fetch fresh data. "
            f"Fresh data in ~{_minutes_until_fresh(exc)} minutes; the deals already in the "
            f"database are still searchable."
        )
    if isinstance(exc, KeepaPaymentRequired):
        log.error("keepa key rejected [%s]: %s", ref, exc)
        return (
            "Keepa rejected the API key (no active plan or a wrong key). An admin can fix "
            "KEEPA_API_KEY in the settings and restart `arbitrage up`."
        )
    if isinstance(exc, KeepaError):
        log.error("keepa failed [%s]: %s", ref, exc)
        return f"Keepa did not answer properly ({exc}). Try again in a minute. (ref {ref})"
    if isinstance(exc, NotConnected):
        return (
            "Your Amazon seller account is not connected, so I can't check gating for you. "
            "Connect it with `arbitrage restrictions connect YOUR_NAME --seller-id ...` (LWA "
            "refresh token and seller id); "
            "until then deals show gating as unchecked."
        )
    if isinstance(exc, ReconnectRequired):
        return (
            "Amazon refused your stored SP-API authorization (it may have been revoked). "
            "Reconnect with `arbitrage restrictions connect YOUR_NAME --seller-id ...`."
        )
    if isinstance(exc, RestrictionsError):
        log.error("restrictions failed [%s]: %s", ref, exc)
        return f"The gating check failed ({exc}). Try again shortly. (ref {ref})"
    if isinstance(exc, PermissionError):
        return str(exc) or "That needs an admin account."
    if isinstance(exc, TimeoutError):
        log.error("timeout [%s]", ref, exc_info=exc)
        return f"That took too long and was stopped. Try a narrower question. (ref {ref})"
    log.error("chat turn failed [%s]", ref, exc_info=exc)
    return (
        f"Something went wrong on my side ({name}); it is logged as {ref}. "
        f"Try again, or rephrase the question."
    )

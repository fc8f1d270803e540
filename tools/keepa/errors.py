"""Typed Keepa errors: callers branch on the class, users read the message.

Keepa answers errors with an HTTP status and a JSON body that still carries the token envelope;
`envelope` keeps it so the token budget stays in step even on failures.
"""

from __future__ import annotations

from typing import Any


class KeepaError(RuntimeError):
    """Base class of every Keepa failure raised by tools.keepa."""

    def __init__(
        self, message: str, *, status: int | None = None, envelope: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.envelope = envelope or {}


class KeepaRequestRejected(KeepaError):
    """HTTP 400 REQUEST_REJECTED: bad parameters (never retried)."""


class KeepaPaymentRequired(KeepaError):
    """HTTP 402 PAYMENT_REQUIRED: invalid key or no active plan (never retried)."""


class KeepaNotFound(KeepaError):
    """HTTP 404: unknown path or object."""


class KeepaServerError(KeepaError):
    """HTTP 5xx: Keepa's side failed; retried with backoff, raised when retries run out."""


class KeepaTransportError(KeepaError):
    """Timeouts and connection failures that outlived the retries."""


class KeepaTokensExhausted(KeepaError):
    """HTTP 429 NOT_ENOUGH_TOKEN kept coming back after waiting for the refill."""


class BudgetWaitTimeout(KeepaTokensExhausted):
    """The shared token budget did not refill to the resume mark before the caller's deadline."""

    def __init__(self, message: str, *, waited_s: float, purpose: str, cost: int) -> None:
        super().__init__(message, status=None)
        self.waited_s = waited_s
        self.purpose = purpose
        self.cost = cost


class MalformedProduct(KeepaError):
    """One product is unusable; names the ASIN and field so nothing is lost silently."""

    def __init__(self, asin: str | None, field: str, reason: str) -> None:
        super().__init__(f"product {asin or '?'}: field {field!r} {reason}")
        self.asin = asin
        self.field = field
        self.reason = reason

    def as_dict(self) -> dict[str, str | None]:
        return {"asin": self.asin, "field": self.field, "reason": self.reason}


def error_for_status(status: int, body: dict[str, Any] | None, path: str) -> KeepaError:
    """Map an HTTP error status (and Keepa's error body) to the typed exception."""
    body = body or {}
    err = body.get("error") or {}
    detail = err.get("message") or err.get("type") or ""
    msg = f"Keepa {path} answered HTTP {status}" + (f": {detail}" if detail else "")
    envelope = {k: body[k] for k in ENVELOPE_KEYS if k in body}
    cls: type[KeepaError]
    if status == 400:
        cls = KeepaRequestRejected
    elif status == 402:
        cls = KeepaPaymentRequired
    elif status == 404:
        cls = KeepaNotFound
    elif status == 429:
        cls = KeepaTokensExhausted
    elif status >= 500:
        cls = KeepaServerError
    else:
        cls = KeepaError
    return cls(msg, status=status, envelope=envelope)


ENVELOPE_KEYS = (
    "tokensLeft",
    "refillIn",
    "refillRate",
    "timestamp",
    "tokensConsumed",
    "tokenFlowReduction",
    "processingTimeInMs",
)

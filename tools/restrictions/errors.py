"""Errors of the restrictions layer, each one a state a seller can see and act on."""

from __future__ import annotations


class RestrictionsError(RuntimeError):
    """Base class: a restriction check could not produce an answer."""


class ReconnectRequired(RestrictionsError):
    """Login with Amazon rejected the refresh token: the seller must reconnect the account."""


class NotConnected(RestrictionsError):
    """No SP-API credentials exist for this user (live mode): the seller must connect first."""


class SpApiError(RestrictionsError):
    """SP-API (or LWA) answered with an error that retries did not fix."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RateLimitTimeout(RestrictionsError):
    """The shared rate limiter did not grant a request before the deadline."""

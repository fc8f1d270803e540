"""SP-API sandbox access tokens expire on the sandbox's clock, the simulated world's time."""

from __future__ import annotations

from tools.clock import SimClock
from tools.sandbox.spapi import SandboxConfig, SandboxState


def test_an_access_token_expires_when_the_worlds_clock_says_so() -> None:
    clock = SimClock(1_780_000_000.0)
    state = SandboxState(SandboxConfig(token_ttl_s=3600, clock=clock))
    token = state.issue_token()
    assert state.token_problem(token) is None
    clock.advance(3599)
    assert state.token_problem(token) is None
    clock.advance(1)
    assert state.token_problem(token) == "The access token you provided has expired."
    # another instance with the same signing key accepts it until then (one per process)
    other = SandboxState(SandboxConfig(clock=SimClock(1_780_000_000.0)))
    assert other.token_problem(token) is None
    forged = token[:-1] + ("1" if token.endswith("0") else "0")
    assert other.token_problem(forged) == "The access token you provided is invalid."

"""Item 3: password guessing is throttled, and sign-in does not reveal which names exist.

Before: 50 wrong passwords, then the right one, was accepted (4.7 tries/s from one client),
and an unknown name was answered in 7 ms against 300 ms for a real one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.harness import ChatServer
from tools import security, users
from tools.db import session_scope
from tools.login_throttle import ACCOUNT_FREE, ADDRESS_FREE, LoginThrottle, lock_seconds


def _login(chat: ChatServer, name: str, password: str) -> httpx.Response:
    return httpx.post(
        chat.url + "/login", data={"username": name, "password": password}, timeout=30
    )


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_wrong_passwords_then_the_right_one_is_refused(
    chat: ChatServer, make_user: Callable[..., tuple[str, str]]
) -> None:
    name, password = make_user()
    for _ in range(ACCOUNT_FREE):
        assert _login(chat, name, "guess-" + password).status_code == 401
    r = _login(chat, name, password)  # the right password, while the account is locked
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in r.json()["detail"]
    assert "access_token" not in r.headers.get("set-cookie", "")


def test_unknown_name_costs_a_password_check(settings, monkeypatch) -> None:
    """The same work for an unknown name as for a known one: a verify against a dummy hash."""
    with session_scope() as session:
        users.add_user(session, "known-user", "right-password-1")
    checked: list[str] = []
    real = security.verify_password  # what tools.users calls, until patched below

    def spy(password: str, password_hash: str) -> bool:
        checked.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(users, "verify_password", spy)
    with session_scope() as session:
        assert users.authenticate(session, "known-user", "wrong-password") is None
        assert users.authenticate(session, "no-such-user", "wrong-password") is None
        assert users.authenticate(session, "x" * 500, "wrong-password") is None
    assert len(checked) == 3
    # the dummy hash is a real hash with the same parameters as the stored ones
    assert checked[1] == checked[2] != checked[0]
    assert checked[1].split("$")[:4] == checked[0].split("$")[:4]


def test_counts_are_shared_by_every_chat_process(redis_url: str) -> None:
    """Two limiters (two chat workers) on one Redis see each other's failures."""
    worker_a, worker_b = LoginThrottle(lambda: redis_url), LoginThrottle(lambda: redis_url)
    for i in range(ACCOUNT_FREE):
        (worker_a if i % 2 else worker_b).failed("seller", "203.0.113.7")
    assert worker_a.retry_after("seller", "198.51.100.1") > 0  # locked from any address
    assert worker_b.retry_after("seller", "198.51.100.1") > 0
    assert worker_a.retry_after("other-seller", "198.51.100.1") == 0
    worker_b.succeeded("seller", "198.51.100.1")
    assert worker_a.retry_after("seller", "198.51.100.1") == 0


def test_one_address_guessing_many_names_is_locked(redis_url: str) -> None:
    limiter = LoginThrottle(lambda: redis_url)
    for i in range(ADDRESS_FREE):
        limiter.failed(f"name-{i}", "2001:db8::1")
    # the same /64: a host rotating its IPv6 address does not start again
    assert limiter.retry_after("name-new", "2001:db8::99") > 0
    assert limiter.retry_after("name-new", "192.0.2.1") == 0


def test_waits_grow_and_stop_at_the_cap() -> None:
    waits = [lock_seconds(n, ACCOUNT_FREE) for n in range(1, 40)]
    assert waits[: ACCOUNT_FREE - 1] == [0.0] * (ACCOUNT_FREE - 1)
    assert all(b >= a for a, b in itertools.pairwise(waits))
    assert waits[-1] == 15 * 60


def test_without_redis_each_process_still_throttles() -> None:
    limiter = LoginThrottle(lambda: None)
    for _ in range(ACCOUNT_FREE):
        limiter.failed("seller", "127.0.0.1")
    assert limiter.retry_after("seller", "127.0.0.1") > 0

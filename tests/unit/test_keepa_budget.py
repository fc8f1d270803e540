"""The shared token budget: controlled deficit, resume mark, deadlines, spend by purpose."""

from __future__ import annotations

import pytest

from tools.clock import SimClock
from tools.keepa.budget import TokenBudget
from tools.keepa.envelope import TokenEnvelope
from tools.keepa.errors import BudgetWaitTimeout

T0 = 1_780_000_000.0


def _env(
    left: int, *, rate: int = 5, refill_in: int = 60_000, consumed: int = 0, ts: float = T0
) -> TokenEnvelope:
    return TokenEnvelope(
        tokens_left=left,
        refill_in_ms=refill_in,
        refill_rate=rate,
        timestamp_ms=int(ts * 1000),
        tokens_consumed=consumed,
    )


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def budget(redis_url: str, clock: SimClock) -> TokenBudget:
    return TokenBudget.from_url(redis_url, clock=clock, floor=50, resume=55, refill_grace_ms=0)


def test_spends_into_deficit_then_waits_only_to_resume_mark(
    budget: TokenBudget, clock: SimClock
) -> None:
    budget.sync(_env(60))
    big = budget.acquire(80, "backfill")  # above the floor: allowed even far below it
    assert big.waited_s == 0
    budget.settle(_env(-20, consumed=80), 80, purpose="backfill")
    assert budget.snapshot()["balance"] == -20
    res = budget.acquire(1, "processor")
    # -20 -> 55 needs 75 tokens = 15 refills of 5: wait 15 minutes, not the 60 of a full bucket
    assert res.waited_s == pytest.approx(15 * 60, abs=1)
    assert clock.now() - T0 == pytest.approx(15 * 60, abs=1)


def test_below_floor_blocks_until_resume(budget: TokenBudget, clock: SimClock) -> None:
    budget.sync(_env(60))
    assert budget.acquire(10, "scout").waited_s == 0  # 60 > 50: go, balance 50
    res = budget.acquire(1, "agent")  # 50 is not above the floor: wait for 55
    assert res.waited_s == pytest.approx(60, abs=1)
    waits = budget.snapshot()["waits"]
    assert waits["agent"]["count"] == 1 and waits["agent"]["seconds"] == pytest.approx(60, abs=1)


def test_deadline_gives_typed_timeout_naming_the_waiter(budget: TokenBudget) -> None:
    budget.sync(_env(0))
    with pytest.raises(BudgetWaitTimeout) as info:
        budget.acquire(5, "refresher", deadline=120)
    assert info.value.purpose == "refresher" and info.value.cost == 5
    assert "refresher" in str(info.value)
    assert budget.waiting_now() == []  # the waiter is deregistered


def test_settle_corrects_estimate_and_records_spend(budget: TokenBudget) -> None:
    budget.sync(_env(200))
    r = budget.acquire(60, "processor")  # e.g. offers estimated at 6 x 10
    assert budget.snapshot()["inflight"] == 60
    bal = budget.settle(_env(176, consumed=24, ts=T0 + 1), r.cost, purpose="processor")
    assert bal == 176 and budget.snapshot()["inflight"] == 0
    budget.settle(_env(170, consumed=6, ts=T0 + 2), 0, 6, purpose="scout")
    assert budget.spend_by_purpose() == {"processor": 24, "scout": 6}


def test_stale_envelope_never_rolls_balance_back(budget: TokenBudget) -> None:
    budget.sync(_env(300, ts=T0 + 10))
    r = budget.acquire(10, "processor")
    budget.settle(_env(500, consumed=10, ts=T0 + 5), r.cost, purpose="processor")
    assert budget.snapshot()["balance"] == 290


def test_refills_per_minute_and_caps_at_sixty_minutes(budget: TokenBudget, clock: SimClock) -> None:
    budget.sync(_env(100, refill_in=10_000))
    clock.advance(9)
    assert budget.snapshot()["balance"] == 100
    clock.advance(2)
    assert budget.snapshot()["balance"] == 105
    clock.advance(24 * 3600)
    assert budget.snapshot()["balance"] == 300  # 60 x 5


def test_other_inflight_reservations_are_kept_when_resyncing(budget: TokenBudget) -> None:
    budget.sync(_env(400, ts=T0))
    a = budget.acquire(100, "processor")
    budget.acquire(50, "scout")  # still in flight
    budget.settle(_env(300, consumed=100, ts=T0 + 1), a.cost, purpose="processor")
    assert budget.snapshot()["balance"] == 250  # Keepa's 300 minus the scout's 50 in flight


def test_a_reservation_that_is_never_settled_expires(budget: TokenBudget, clock: SimClock) -> None:
    """A worker killed mid-call never settles; its tokens must not stay out of the balance."""
    budget.sync(_env(400, ts=T0))
    budget.acquire(100, "processor")  # the process dies here
    budget.sync(_env(400, ts=T0 + 1))
    assert budget.snapshot()["balance"] == 300  # still in flight: counted out
    clock.advance(budget.reservation_ttl_ms / 1000 + 1)
    budget.sync(_env(380, ts=clock.now()))
    snap = budget.snapshot()
    assert snap["inflight"] == 0 and snap["balance"] == 380  # Keepa's own number again


def test_a_late_settle_of_an_expired_reservation_releases_nothing_twice(
    budget: TokenBudget, clock: SimClock
) -> None:
    budget.sync(_env(400, ts=T0))
    slow = budget.acquire(100, "processor")
    clock.advance(300)
    budget.acquire(50, "scout")  # still in flight when the slow one expires
    clock.advance(budget.reservation_ttl_ms / 1000 - 299)
    budget.settle(
        _env(300, consumed=100, ts=clock.now()), slow.cost, purpose="processor", reservation=slow.id
    )
    assert budget.snapshot()["inflight"] == 50
    assert budget.snapshot()["balance"] == 250  # Keepa's 300 minus the scout's 50


def test_a_waiter_killed_while_waiting_is_not_shown_for_ever(
    budget: TokenBudget, clock: SimClock
) -> None:
    budget._start_wait("backfill", 10, 120.0)  # a process SIGKILLed inside acquire()
    assert [w["purpose"] for w in budget.waiting_now()] == ["backfill"]
    clock.advance(181)
    assert budget.waiting_now() == []


def test_a_late_settle_without_envelope_credits_nothing_twice(
    budget: TokenBudget, clock: SimClock
) -> None:
    """Expired, then another process resynced from Keepa: the late settle must not add the
    estimate back on top of Keepa's own number."""
    budget.sync(_env(1000, ts=T0))
    slow = budget.acquire(100, "processor")
    clock.advance(budget.reservation_ttl_ms / 1000 + 1)
    budget.sync(_env(900, ts=clock.now()))  # another process's answer
    assert budget.settle(None, slow.cost, 0, purpose="processor", reservation=slow.id) == 900
    budget.settle(None, slow.cost, 0, purpose="processor", reservation=slow.id)  # twice
    assert budget.snapshot()["balance"] == 900

"""TaskLock on a real Redis: owner token, expiry after a crash, safe release, renewal."""

from __future__ import annotations

import time

import pytest
import redis

from workers.locks import LockBusy, TaskLock


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def test_second_holder_is_refused_until_expiry(client: redis.Redis) -> None:
    crashed = TaskLock(client, "job", 0.5, renew=False)
    assert crashed.acquire()  # ... and its process dies without releasing
    with pytest.raises(LockBusy, match="job is already running"), TaskLock(client, "job", 5):
        pass
    time.sleep(0.6)
    with TaskLock(client, "job", 5):  # expired: the next run proceeds, no manual cleanup
        assert client.exists("arbitrage:lock:job")
    assert not client.exists("arbitrage:lock:job")


def test_release_never_deletes_someone_elses_lock(client: redis.Redis) -> None:
    old = TaskLock(client, "job", 0.3, renew=False)
    assert old.acquire()
    time.sleep(0.4)
    new = TaskLock(client, "job", 5, renew=False)
    assert new.acquire()
    old.release()  # late release of an expired lock: compare-and-delete keeps the new one
    assert client.exists("arbitrage:lock:job")
    new.release()
    assert not client.exists("arbitrage:lock:job")


def test_renewal_keeps_a_long_job_locked(client: redis.Redis) -> None:
    with TaskLock(client, "long", 0.6) as lock:
        time.sleep(1.5)  # well past the ttl
        assert not lock.lost
        assert not TaskLock(client, "long", 1, renew=False).acquire()


def test_a_restarted_worker_takes_over_the_lock_of_its_killed_predecessor(
    client: redis.Redis,
) -> None:
    """kill -9 leaves the lock behind; on the same machine its holder is known to be gone,
    so the next run proceeds at once instead of after the lock's ttl (6 min for the scout)."""
    import subprocess
    import sys

    from workers.locks import owner_token

    host, _pid, _start, rand = owner_token().split("|")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    client.set("arbitrage:lock:scout", f"{host}|{gone.pid}|1|{rand}", px=360_000)
    with TaskLock(client, "scout", 360, renew=False):
        assert client.pttl("arbitrage:lock:scout") > 0
    # a live holder (this process), or one on another machine, keeps its lock
    client.set("arbitrage:lock:scout", owner_token(), px=360_000)
    assert not TaskLock(client, "scout", 5, renew=False).acquire()
    client.set("arbitrage:lock:scout", f"elsewhere|{gone.pid}|1|{rand}", px=360_000)
    assert not TaskLock(client, "scout", 5, renew=False).acquire()

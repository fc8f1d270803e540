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

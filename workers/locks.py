"""Redis locks with an owner token, an expiry and safe release, renewed during long jobs.

Built on redis-py's `Lock` (owner token, `SET NX PX`, Lua compare-and-delete release, Lua
extend). A crashed holder's lock simply expires after `ttl_s`, so there is never a "task
already running" forever and never a reason to FLUSHALL. Long jobs keep their lock alive with a
renewal thread; if renewal ever fails (the lock expired and someone else took it) the holder
sees `lost` and stops writing.

The token names its holder (host and pid namespace, pid, the process's start time): a worker
restarted on the same machine after a kill -9 takes over the locks its dead predecessor held
at once, instead of skipping the scout for up to its lock's 6 minutes. A holder on another
machine or in another container cannot be asked, so its lock still runs out by itself.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from types import TracebackType

import redis
from redis.exceptions import LockError, LockNotOwnedError

log = logging.getLogger(__name__)
PREFIX = "arbitrage:lock:"
# delete the lock only if it still holds the dead owner's token
_BREAK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


def _where() -> str:
    """This process's pid space: the host name and the pid namespace (two containers may share
    a host name, never a pid namespace); only a holder in it can be asked whether it lives."""
    try:
        pidns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        pidns = "-"
    return f"{socket.gethostname()}:{pidns}"


def owner_token() -> str:
    """A lock token that says who holds it: pid space, pid, process start time, randomness."""
    from tools.runstate import proc_start

    return f"{_where()}|{os.getpid()}|{proc_start(os.getpid())}|{uuid.uuid4().hex}"


def holder_is_dead(token: bytes | str | None) -> bool:
    """True only when the token's holder was a process of this pid space that is gone."""
    from tools.runstate import pid_alive

    if token is None:
        return False
    text = token.decode(errors="replace") if isinstance(token, bytes) else token
    parts = text.split("|")
    if len(parts) != 4 or parts[0] != _where() or not parts[1].isdigit():
        return False  # another machine's or container's, or an older token: let it expire
    return not pid_alive(int(parts[1]), None if parts[2] == "None" else parts[2])


class LockBusy(RuntimeError):
    """Another live holder owns the lock (its expiry is in the message)."""


class TaskLock:
    """One named lock; `with TaskLock(client, "backfill", 60):` raises LockBusy when held."""

    def __init__(self, client: redis.Redis, name: str, ttl_s: float, *, renew: bool = True) -> None:
        self.client = client
        self.name = PREFIX + name
        self.ttl_s = float(ttl_s)
        self._lock = client.lock(self.name, timeout=self.ttl_s, thread_local=False)
        self._renew = renew
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False, token=owner_token()):
            held = self.client.get(self.name)
            if not holder_is_dead(held):
                return False
            self.client.eval(_BREAK, 1, self.name, held)  # type: ignore[arg-type]
            log.warning("%s: its holder died without releasing it; taken over", self.name)
            if not self._lock.acquire(blocking=False, token=owner_token()):
                return False
        self.lost = False
        if self._renew:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._renew_loop, daemon=True, name=f"renew {self.name}"
            )
            self._thread.start()
        return True

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._lock.reacquire()
            except (LockError, redis.RedisError) as err:
                self.lost = True
                log.error("lost lock %s: %s", self.name, err)
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        try:
            self._lock.release()
        except LockNotOwnedError:
            log.warning("lock %s had expired or changed owner before release", self.name)
        except LockError:
            pass

    def ttl_left_s(self) -> float | None:
        ms = self.client.pttl(self.name)
        return None if ms is None or ms < 0 else ms / 1000

    def __enter__(self) -> TaskLock:
        if not self.acquire():
            left = self.ttl_left_s()
            raise LockBusy(
                f"{self.name.removeprefix(PREFIX)} is already running"
                + (f" (its lock expires in {left:.0f}s unless renewed)" if left is not None else "")
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder_ttl(client: redis.Redis, name: str) -> float | None:
    """Seconds left on a held lock, None when free (for status output)."""
    ms = client.pttl(PREFIX + name)
    return None if ms is None or ms < 0 else ms / 1000

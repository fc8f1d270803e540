"""A process-wide stop request that long waits honour, so a process can stop in seconds.

A Celery worker's warm shutdown waits for the tasks it runs, and a task waiting for Keepa
tokens may wait for many minutes (the budget's deadline is 15): `arbitrage up` has to stop
within 15 s. The worker sets the request when its shutdown begins (workers/celery_app.py);
the waits that honour it (Keepa calls through SyncKeepaClient, the SP-API rate limiter, the
backfill's pause between pages) end by raising `Stopped`, and the worker puts the task back
in its queue. Nothing else in the process changes: outside a stopping worker the request is
never set.
"""

from __future__ import annotations

import threading

_STOP = threading.Event()


class Stopped(Exception):
    """The process is stopping; the interrupted work is unfinished and should run again."""


def request() -> None:
    """Ask every honouring wait of this process to end (safe from a signal handler)."""
    _STOP.set()


def requested() -> bool:
    return _STOP.is_set()


def clear() -> None:
    """Forget a request (tests; a process that stops does not come back)."""
    _STOP.clear()


def check() -> None:
    """Raise Stopped when a stop was requested."""
    if _STOP.is_set():
        raise Stopped("the process is stopping")


def pause(seconds: float) -> None:
    """time.sleep(seconds) that ends early, raising Stopped, when a stop is requested."""
    if _STOP.wait(max(0.0, seconds)):
        raise Stopped("the process is stopping")

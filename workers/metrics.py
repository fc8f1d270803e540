"""Celery's side of the Prometheus metrics (tools/metrics.py): task runs, durations, failures.

Signals, not code in each task: every task (scout, processor, gating checks, backups, ones
added later) is measured the same way. The worker's main process and beat switch their
metrics to the shared directory as they start; pool processes forked from the worker follow
(prometheus-client notices the new pid), and each drops its live gauges when it stops.
"""

from __future__ import annotations

import time
from typing import Any

from celery.signals import (
    beat_init,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    worker_init,
    worker_process_shutdown,
)

from tools.metrics import TASK_LAST_SUCCESS, TASK_RUNS, TASK_SECONDS, enable_multiprocess, mark_dead
from tools.settings import get_settings

_started: dict[str, float] = {}  # task id -> monotonic start, in the process running it


def _short(name: str | None) -> str:
    """`workers.tasks.scout` -> `scout` (a bounded label: the registered task names)."""
    return (name or "unknown").rsplit(".", 1)[-1]


@worker_init.connect
@beat_init.connect
def _enable(**_: Any) -> None:
    enable_multiprocess(get_settings())


@worker_process_shutdown.connect
def _dead(**_: Any) -> None:
    mark_dead()


@task_prerun.connect
def _prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


@task_postrun.connect
def _postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any
) -> None:
    start = _started.pop(task_id or "", None)
    name = _short(getattr(task, "name", None))
    if start is not None:
        TASK_SECONDS.labels(name).observe(time.monotonic() - start)
    if state == "SUCCESS":
        TASK_RUNS.labels(name, "success").inc()
        TASK_LAST_SUCCESS.labels(name).set(time.time())


@task_failure.connect
def _failure(sender: Any = None, **_: Any) -> None:
    TASK_RUNS.labels(_short(getattr(sender, "name", None)), "failure").inc()


@task_retry.connect
def _retry(sender: Any = None, **_: Any) -> None:
    TASK_RUNS.labels(_short(getattr(sender, "name", None)), "retry").inc()

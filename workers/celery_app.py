"""The Celery application: broker and result backend on Redis, named queues, beat schedule.

Queues keep short tasks from waiting behind long ones: `scout` (discovery), `processor`
(fetch + analytics), `maintenance` (refresher, janitor, backups), `restrictions`, `spapi`
(sellers' Amazon data syncs, which mostly wait for SP-API's rate) and `backfill` (long,
manual).

A worker runs its tasks in threads of one process (`--pool threads`; `arbitrage worker` and
`up`): the tasks mostly wait (for Keepa tokens, HTTP, SP-API's rate), one process holds one
copy of the Keepa sandbox market instead of one per child (~300 MB less), and when the worker
is told to stop, its shutdown signal reaches the threads running tasks: every wait that
honours tools/shutdown.py ends and the task goes back to its queue (acks_late + reject with
requeue) instead of holding the stop for up to 15 minutes.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.exceptions import Reject
from celery.schedules import crontab
from celery.signals import task_postrun, worker_shutting_down
from kombu import Queue

from tools import shutdown
from tools.memory import release_free_memory
from tools.private_files import private_umask
from tools.redis_embedded import redis_url
from tools.settings import get_settings

private_umask()  # `celery -A workers.celery_app ...` too: beat's schedule and logs stay private

QUEUES = ("scout", "processor", "maintenance", "restrictions", "spapi", "backfill")
TASK_MODULES = (
    "workers.tasks",
    "workers.restrictions",
    "workers.spapi",
    "workers.backup",
    "workers.alerts",
)


def pipeline_schedule() -> dict[str, dict[str, object]]:
    """Beat entries of the deal pipeline; each task also holds a lock, so ticks never pile up.

    Expiry = interval: a tick that waited in the queue longer than one interval is dropped
    (the next one is already on its way) instead of running late in a burst.
    """
    s = get_settings()
    entries = {
        "scout": s.scout_interval_s,
        "processor": s.processor_interval_s,
        "refresher": s.refresher_interval_s,
        "janitor": s.janitor_interval_s,
    }
    return {
        name: {"task": f"workers.tasks.{name}", "schedule": every, "options": {"expires": every}}
        for name, every in entries.items()
    }


def alerts_schedule() -> dict[str, dict[str, object]]:
    """Alert matching, delivery and daily picks (workers/alerts.py): a backstop tick; the
    processor also sends `match` after each run that wrote deals."""
    every = get_settings().alerts_interval_s
    return {
        name: {"task": f"workers.alerts.{name}", "schedule": every, "options": {"expires": every}}
        for name in ("match", "deliver", "daily_picks")
    }


def spapi_schedule() -> dict[str, dict[str, object]]:
    """Sellers' Amazon data (workers/spapi.py): inventory, and orders with finances."""
    s = get_settings()
    entries = {
        "spapi_inventory": ("sync_inventory_for_all", s.spapi_inventory_interval_s),
        "spapi_sales": ("sync_sales_for_all", s.spapi_orders_interval_s),
    }
    return {
        name: {"task": f"workers.spapi.{task}", "schedule": every, "options": {"expires": every}}
        for name, (task, every) in entries.items()
    }


def backup_schedule() -> dict[str, dict[str, object]]:
    """The nightly backup (workers/backup.py) at BACKUP_HOUR UTC; none when BACKUP_KEEP=0."""
    s = get_settings()
    if s.backup_keep == 0:
        return {}
    return {
        "backup": {
            "task": "workers.backup.nightly",
            "schedule": crontab(minute=17, hour=s.backup_hour),
            "options": {"expires": 6 * 3600.0},
        }
    }


class RequeuedOnStop(Task):
    """A task interrupted by the worker's stop goes back to its queue, untouched."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except shutdown.Stopped as err:
            raise Reject(f"{err}; back in the queue", requeue=True) from None


@task_postrun.connect
def _give_memory_back(**_: object) -> None:
    # a task's Keepa answers and histories are garbage now: hand their pages back
    release_free_memory()


@worker_shutting_down.connect
def _on_shutting_down(**_: object) -> None:
    # sent in the worker's main process as its warm shutdown begins (SIGTERM / Ctrl-C)
    shutdown.request()


def make_celery(include: tuple[str, ...] = TASK_MODULES) -> Celery:
    """The app; `include`: the task modules a worker imports (beat sends by name, needs none)."""
    url = redis_url(get_settings())
    app = Celery(
        "arbitrage", broker=url, backend=url, include=list(include), task_cls=RequeuedOnStop
    )
    app.conf.update(
        task_queues=[Queue(q) for q in QUEUES],
        task_default_queue="maintenance",
        task_routes={
            "workers.tasks.scout": {"queue": "scout"},
            "workers.tasks.processor": {"queue": "processor"},
            "workers.tasks.refresher": {"queue": "maintenance"},
            "workers.tasks.janitor": {"queue": "maintenance"},
            "workers.tasks.backfill": {"queue": "backfill"},
            "workers.restrictions.*": {"queue": "restrictions"},
            "workers.spapi.*": {"queue": "spapi"},
            "workers.backup.*": {"queue": "maintenance"},
            "workers.alerts.*": {"queue": "maintenance"},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # task events for Flower (`celery -A workers.celery_app flower`, README) and
        # `celery events`: received / started / succeeded / failed, and sent by the caller
        worker_send_task_events=True,
        task_send_sent_event=True,
        result_expires=3600,
        timezone="UTC",
        beat_schedule={
            **pipeline_schedule(),
            "restrictions": {
                "task": "workers.restrictions.check_restrictions_for_all_users",
                "schedule": get_settings().restrictions_interval_s,
                "options": {"expires": get_settings().restrictions_interval_s},
            },
            "restrictions_top": {
                "task": "workers.restrictions.check_top_deals_for_all_users",
                "schedule": get_settings().restrictions_top_interval_s,
                "options": {"expires": get_settings().restrictions_top_interval_s},
            },
            **spapi_schedule(),
            **alerts_schedule(),
            **backup_schedule(),
        },
    )
    return app


app = make_celery()

from workers import metrics as _metrics  # noqa: E402, F401  (task metrics: Celery signals)

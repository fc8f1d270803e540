"""The Celery app as beat runs it: the same configuration and schedule, no task modules.

Beat sends tasks by name. Importing the task modules (what `-A workers.celery_app` makes
beat do) loads the database layer, the Keepa client and the SP-API code into a process that
never runs a task: ~45 MB of the machine's memory for nothing.
"""

from __future__ import annotations

from workers.celery_app import make_celery

app = make_celery(include=())

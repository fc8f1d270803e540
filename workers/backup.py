"""The nightly backup: beat sends it at BACKUP_HOUR (UTC); the newest BACKUP_KEEP are kept.

It runs on whichever worker takes it, so BACKUP_DIR must be on that machine's disk (or a
mounted volume) and, on SQLite, the worker shares DATA_DIR with the app. Its last run and
any error show in `arbitrage status` as the `backup` task.
"""

from __future__ import annotations

from typing import Any

from tools.settings import get_settings
from workers.celery_app import app
from workers.tasks import run_locked

LOCK_TTL_S = 300.0  # renewed while the backup runs; a crashed run frees it after this


@app.task(name="workers.backup.nightly")
def nightly() -> dict[str, Any]:
    from tools.backup.service import nightly_backup

    return run_locked("backup", LOCK_TTL_S, lambda _lock: nightly_backup(get_settings()))

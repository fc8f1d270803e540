"""Celery task: check every active deal's listing restrictions for one user.

A thin shell over `tools.restrictions.check_all_for_user`; progress lives in system_state
(`restrictions_progress:{user_id}`) for the status screen and the chat.
"""

from __future__ import annotations

from typing import Any

from tools.restrictions import check_all_for_user_sync
from tools.settings import get_settings
from workers.celery_app import app


@app.task(name="workers.restrictions.check_all_restrictions_for_user", acks_late=True)
def check_all_restrictions_for_user(user_id: int) -> dict[str, Any]:
    """Newest deals first, batches of 5, within the shared SP-API rate; returns the progress."""
    return check_all_for_user_sync(get_settings(), user_id)

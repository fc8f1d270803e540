"""Celery task: check every active deal's listing restrictions for one user.

A thin shell over `tools.restrictions.check_all_for_user`; progress lives in system_state
(`restrictions_progress:{user_id}`) for the status screen and the chat.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from tools.db import session_scope
from tools.models import User
from tools.restrictions import check_all_for_user_sync
from tools.settings import get_settings
from workers.celery_app import app


@app.task(name="workers.restrictions.check_all_restrictions_for_user", acks_late=True)
def check_all_restrictions_for_user(user_id: int, limit: int | None = None) -> dict[str, Any]:
    """Newest deals first, batches of 5, within the shared SP-API rate; returns the progress."""
    return check_all_for_user_sync(get_settings(), user_id, limit=limit)


@app.task(name="workers.restrictions.check_restrictions_for_all_users")
def check_restrictions_for_all_users() -> list[int]:
    """Beat: keep every seller's gating answers current, so "deals I can sell" has answers.

    Each user's run checks only unchecked or stale deals (newest first) up to a per-run cap,
    and a per-user lock makes overlapping ticks return at once.
    """
    cap = get_settings().restrictions_per_run
    with session_scope() as session:
        ids = [uid for uid in session.exec(select(User.id)) if uid is not None]
    for uid in ids:
        check_all_restrictions_for_user.apply_async((uid, cap), queue="restrictions")
    return ids

"""Celery tasks: check listing restrictions (gating) for the sellers.

Thin shells: `check_all_for_user` walks every active deal (progress in system_state,
`restrictions_progress:{user_id}`, for the status screen and the chat); `check_top_deals`
checks each seller's top deals first, soon after the worker starts and then on beat, so a
seller's first "deals I can sell" has answers.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready
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
    ids = _seller_ids()
    for uid in ids:
        check_all_restrictions_for_user.apply_async((uid, cap), queue="restrictions")
    return ids


def _seller_ids() -> list[int]:
    with session_scope() as session:
        return [uid for uid in session.exec(select(User.id)) if uid is not None]


@app.task(name="workers.restrictions.check_top_deals_for_user", acks_late=True)
def check_top_deals_for_user(user_id: int) -> dict[str, Any]:
    """The seller's top deals (by ROI and by profit) without a gating answer, checked now."""
    from tools.restrictions.service import run_sync
    from tools.restrictions.top import check_top_deals

    settings = get_settings()
    return run_sync(check_top_deals(settings, user_id, settings.restrictions_top_n))


@app.task(name="workers.restrictions.check_top_deals_for_all_users")
def check_top_deals_for_all_users() -> list[int]:
    """Beat (and once soon after the worker starts): every seller's top deals."""
    if get_settings().restrictions_top_n <= 0:
        return []
    ids = _seller_ids()
    for uid in ids:
        check_top_deals_for_user.apply_async((uid,), queue="restrictions")
    return ids


@worker_ready.connect
def _top_deals_soon(**_: object) -> None:
    # `arbitrage up` on a fresh install: the scout and processor bring the first deals within
    # a minute; check the sellers' best ones then, not at beat's first tick
    delay = get_settings().restrictions_top_start_delay_s
    check_top_deals_for_all_users.apply_async(countdown=delay, queue="restrictions")

"""Celery tasks: keep every connected seller's Amazon data synced (tools/spapi).

Beat fans out per seller and stream: inventory every SPAPI_INVENTORY_INTERVAL_S (30 min),
orders and finances every SPAPI_ORDERS_INTERVAL_S (15 min), each stream its own task, so a
seller's streams run side by side (each operation has its own usage plan: a first sync's
8 hours of getOrders do not hold back its financial events). A run works for one time slice
(SPAPI_SYNC_SLICE_S) from each stream's checkpoint; a stream that has not caught up (a first
sync of a year of orders takes hours at getOrders' one call a minute) queues its own
continuation at once, so it never waits for the next tick and never holds a worker thread for
hours. A per-seller-and-stream lock makes overlapping runs return at once.
"""

from __future__ import annotations

import logging
from typing import Any

from tools.db import session_scope
from tools.settings import get_settings
from tools.spapi.factory import sellers_to_sync
from tools.spapi.service import sync_seller_sync
from tools.spapi.sync import STREAMS
from workers.celery_app import app

log = logging.getLogger(__name__)
INVENTORY = ("inventory",)
SALES = ("orders", "finances")


@app.task(name="workers.spapi.sync_seller", acks_late=True)
def sync_seller(user_id: int, streams: list[str] | None = None) -> dict[str, Any]:
    """One slice of one seller's streams; queues the unfinished ones to continue."""
    wanted = tuple(s for s in (streams or STREAMS) if s in STREAMS)
    run = sync_seller_sync(get_settings(), user_id, wanted)
    if run.unfinished:
        log.info("seller %s: %s continue in a new slice", user_id, ", ".join(run.unfinished))
        sync_seller.apply_async((user_id, run.unfinished), queue="spapi")
    return run.as_dict()


def _fan_out(streams: tuple[str, ...]) -> list[int]:
    settings = get_settings()
    with session_scope(settings) as session:
        ids = sellers_to_sync(session, settings)
    for uid in ids:
        for stream in streams:
            sync_seller.apply_async((uid, [stream]), queue="spapi")
    return ids


@app.task(name="workers.spapi.sync_inventory_for_all")
def sync_inventory_for_all() -> list[int]:
    """Beat: every connected seller's FBA inventory."""
    return _fan_out(INVENTORY)


@app.task(name="workers.spapi.sync_sales_for_all")
def sync_sales_for_all() -> list[int]:
    """Beat: every connected seller's orders and financial events."""
    return _fan_out(SALES)

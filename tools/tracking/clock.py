"""The seller's "now": wall time, or the simulated world's when SP-API is the sandbox.

Moving the sandbox clock forward (tools/sandbox/time_shift.py) moves the world the sales
come from; a purchase recorded "today", "what sold this week?" and "what's stuck inbound?"
must mean the same day as that world, or a purchase recorded after a jump would be sent in
weeks in the past (and sell on sales long gone).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tools.models import utcnow
from tools.settings import Settings, get_settings


def seller_now(settings: Settings | None = None) -> datetime:
    settings = settings or get_settings()
    now = utcnow()
    if settings.spapi_mode == "sandbox":
        from tools.sandbox import time_shift

        now += timedelta(seconds=time_shift.shift_s(settings.data_dir))
    return now

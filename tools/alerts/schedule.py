"""When a message may go out: quiet hours and digests, in the seller's own time zone.

The in-app inbox is silent, so it is never held back; webhooks and email ping a phone, so they
wait out the quiet hours, and a digest gathers them into one message per hour or per day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tools.models import AlertSettings

PUSH_CHANNELS = ("webhook", "email")


def zone(settings: AlertSettings) -> ZoneInfo:
    try:
        return ZoneInfo(settings.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_quiet(settings: AlertSettings, local: datetime) -> bool:
    """Within [quiet_start, quiet_end) local hours; a window may wrap midnight (22 -> 7)."""
    start, end = settings.quiet_start, settings.quiet_end
    if start is None or end is None or start == end:
        return False
    hour = local.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def _at_hour(local: datetime, hour: int) -> datetime:
    """The next local time at `hour`:00 not before `local`."""
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate >= local else candidate + timedelta(days=1)


def due_at(settings: AlertSettings, channel: str, now: datetime) -> datetime:
    """The earliest time a message created now may be sent on `channel`."""
    if channel not in PUSH_CHANNELS:
        return now
    local = now.astimezone(zone(settings))
    if settings.digest == "hourly":
        local = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    elif settings.digest == "daily":
        local = _at_hour(local, settings.picks_hour)
    if is_quiet(settings, local) and settings.quiet_end is not None:
        local = _at_hour(local, settings.quiet_end)
    return local.astimezone(now.tzinfo) if now.tzinfo else local

"""Keepa time: minutes since 2011-01-01 00:00 UTC (the keepa package converts the other way)."""

from __future__ import annotations

KEEPA_EPOCH_OFFSET_MIN = 21_564_000  # Unix minutes at 2011-01-01


def to_keepa_minutes(unix_seconds: float) -> int:
    return int(unix_seconds // 60) - KEEPA_EPOCH_OFFSET_MIN


def keepa_minutes_to_unix(minutes: int) -> float:
    return float((minutes + KEEPA_EPOCH_OFFSET_MIN) * 60)

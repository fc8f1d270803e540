"""Alerts in the open chat: a line on sign-in ("3 new alert messages since ...") and a live
message when a match (or the daily picks) arrives while the seller has the chat open.

The worker writes every alert into the seller's in-app inbox (alert_outbox, channel "app");
each open session polls its seller's unread rows every POLL_S seconds, shows the new ones
and marks them read, so a message shown in one tab is not shown again in another.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import chainlit as cl
from sqlmodel import Session, col, select

from tools.alerts.messages import render
from tools.alerts.store import mark_read, unread_since
from tools.db import get_engine
from tools.models import AlertOutbox, utcnow

log = logging.getLogger(__name__)

POLL_S = 5.0
MAX_PER_POLL = 5  # a burst shows this many; the rest stay in the inbox ("what's new?")
AUTHOR = "Alerts"


def _since(at: datetime | None) -> str:
    return at.strftime("%b %d, %H:%M UTC") if at else "your last visit"


def unread_line(user_id: int) -> str | None:
    """The sign-in line, or None when nothing is unread."""
    with Session(get_engine()) as session:
        count, first = unread_since(session, user_id)
    if not count:
        return None
    return (
        f"\U0001f514 {count} new alert message{'s' if count != 1 else ''} since {_since(first)}: "
        "ask \u201cwhat's new?\u201d to see them."
    )


def _take_new(user_id: int, after_id: int) -> list[tuple[int, str]]:
    """Unread in-app rows newer than the session start, marked read (shown now)."""
    with Session(get_engine()) as session:
        rows = session.exec(
            select(AlertOutbox)
            .where(
                AlertOutbox.owner_id == user_id,
                AlertOutbox.channel == "app",
                col(AlertOutbox.id) > after_id,
                col(AlertOutbox.read_at).is_(None),
            )
            .order_by(col(AlertOutbox.id))
            .limit(MAX_PER_POLL)
        ).all()
        shown = [(r.id or 0, render(r.kind, r.payload)[1]) for r in rows]
        mark_read(session, user_id, [i for i, _ in shown], utcnow())
        session.commit()
    return shown


def _newest_id(user_id: int) -> int:
    with Session(get_engine()) as session:
        newest = session.exec(
            select(col(AlertOutbox.id))
            .where(AlertOutbox.owner_id == user_id, AlertOutbox.channel == "app")
            .order_by(col(AlertOutbox.id).desc())
            .limit(1)
        ).first()
    return int(newest or 0)


async def _follow(user_id: int, after_id: int) -> None:
    while True:
        await asyncio.sleep(POLL_S)
        try:
            new = await asyncio.to_thread(_take_new, user_id, after_id)
        except Exception:  # the database is away for a moment: try again at the next poll
            log.warning("alerts feed: poll failed", exc_info=True)
            continue
        for row_id, text in new:
            after_id = max(after_id, row_id)
            await cl.Message(content=text, author=AUTHOR).send()


async def start_feed(user_id: int) -> None:
    """Follow this seller's new alerts for the life of the session (once per session)."""
    if cl.user_session.get("alerts_feed") is not None:
        return
    after = await asyncio.to_thread(_newest_id, user_id)
    cl.user_session.set("alerts_feed", asyncio.create_task(_follow(user_id, after)))


def stop_feed() -> None:
    task = cl.user_session.get("alerts_feed")
    cl.user_session.set("alerts_feed", None)
    if isinstance(task, asyncio.Task):
        task.cancel()

"""Retrieved knowledge, cached per database and query until the knowledge base changes.

Every persona turn retrieves knowledge for the question, and every deal verdict for the deal's
situation; the knowledge base changes rarely (an admin approves an entry) while the same
questions and deal profiles come back all day. Writes through the ORM in this process (the
chat's approval, `arbitrage teach`, the store) clear the cache when they commit; writes by
another process are seen after at most TTL_S seconds. It lives with the knowledge it caches
(the agent is one caller): its invalidation listens for Strategy and MentalModel writes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from tools.models import MentalModel, Strategy

TTL_S = 30.0
MAX_ENTRIES = 512

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], tuple[float, int, list[dict[str, Any]]]] = OrderedDict()
_generation = 0
_KNOWLEDGE = (Strategy, MentalModel)


def clear() -> None:
    """Forget everything (the knowledge base changed)."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def cached(key: tuple[Any, ...], load: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """`load()`'s result for `key`, reused for TTL_S seconds unless knowledge changes."""
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        generation = _generation
        if hit is not None and hit[1] == generation and now - hit[0] < TTL_S:
            _entries.move_to_end(key)
            return [dict(h) for h in hit[2]]
    value = load()
    with _lock:
        if generation == _generation:  # nothing committed while loading: safe to keep
            _entries[key] = (now, generation, [dict(h) for h in value])
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


@event.listens_for(Session, "after_flush")
def _note_knowledge_writes(session: Session, _ctx: Any) -> None:
    if any(isinstance(o, _KNOWLEDGE) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info["knowledge_changed"] = True


@event.listens_for(Session, "after_commit")
def _clear_after_knowledge_commit(session: Session) -> None:
    if session.info.pop("knowledge_changed", False):
        clear()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("knowledge_changed", None)

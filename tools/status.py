"""Health of every part, gathered for `arbitrage status` (plain data; the CLI renders it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import select

from tools.db import current_revision, get_engine, head_revision, session_scope
from tools.models import Deal
from tools.settings import Settings, get_settings


@dataclass
class Part:
    name: str
    ok: bool
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def check_database(settings: Settings) -> Part:
    try:
        with get_engine(settings).connect() as conn:
            conn.execute(text("SELECT 1"))
        rev, head = current_revision(settings), head_revision()
        kind = "SQLite (WAL)" if settings.is_sqlite else "PostgreSQL"
        if rev is None:
            return Part(
                "database",
                False,
                f"{kind}: not created yet (`arbitrage up` creates "
                "and migrates it; so does every other command that needs it)",
            )
        if rev != head:
            return Part(
                "database",
                False,
                f"{kind}: schema at {rev}, newest is {head} (`arbitrage up` migrates it)",
            )
        return Part("database", True, f"{kind}, schema {rev}")
    except Exception as err:  # status must report, not crash
        return Part("database", False, f"unreachable: {err.__class__.__name__}: {err}")


def check_redis(settings: Settings) -> Part:
    import redis

    from tools.redis_embedded import RedisUnavailable, display_url, redis_url

    try:
        url = redis_url(settings)
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        mode = "external" if settings.redis_url else "embedded"
        return Part("redis", True, f"{mode} at {display_url(url)}")
    except (RedisUnavailable, redis.RedisError) as err:
        return Part("redis", False, str(err))


def deal_counts(settings: Settings) -> dict[str, int]:
    try:
        with session_scope(settings) as session:
            rows = session.exec(select(Deal.status, func.count()).group_by(Deal.status)).all()
        return {str(getattr(s, "value", s)): int(n) for s, n in rows}
    except Exception:
        return {}


def collect(settings: Settings | None = None) -> list[Part]:
    settings = settings or get_settings()
    parts = [
        check_database(settings),
        check_redis(settings),
        check_worker(settings),
        check_chat(settings),
    ]
    parts.append(
        Part(
            "keepa",
            True,
            f"{settings.keepa_mode} ({settings.keepa_api_url})"
            if settings.keepa_mode == "live"
            else "sandbox market (no KEEPA_API_KEY)",
        )
    )
    parts.append(
        Part(
            "llm",
            True,
            f"{settings.llm_mode}"
            + (
                f" ({settings.llm_model or 'default model'})"
                if settings.llm_mode != "offline"
                else " model (no LLM_API_KEY)"
            ),
        )
    )
    parts.append(
        Part(
            "sp-api",
            True,
            (
                "live"
                if settings.spapi_mode == "live"
                else "restrictions sandbox (no SPAPI_* credentials)"
            )
            + restriction_checks(settings),
        )
    )
    return parts


def check_worker(settings: Settings, max_age_s: float = 180.0) -> Part:
    """A worker is healthy when its heartbeat task ran recently (beat sends one a minute)."""
    from datetime import datetime

    from tools.models import SystemState, utcnow

    try:
        with session_scope(settings) as session:
            row = session.get(SystemState, "worker_heartbeat")
        if not row or not row.value:
            return Part("worker", False, "no heartbeat yet (is `arbitrage worker` running?)")
        age = (utcnow() - datetime.fromisoformat(str(row.value))).total_seconds()
        if age > max_age_s:
            return Part("worker", False, f"last heartbeat {age:.0f}s ago")
        return Part("worker", True, f"heartbeat {age:.0f}s ago")
    except (OperationalError, ProgrammingError):  # no tables yet (SQLite / PostgreSQL)
        return Part("worker", False, "no heartbeat yet (the database is not created yet)")
    except Exception as err:  # one line, not an SQL dump
        return Part(
            "worker", False, f"unknown: {err.__class__.__name__}: {str(err).splitlines()[0][:120]}"
        )


def check_chat(settings: Settings) -> Part:
    import httpx

    url = f"http://{settings.chainlit_host}:{settings.chainlit_port}"
    try:
        resp = httpx.get(url, timeout=3)
        ok = resp.status_code < 500
        return Part("chat", ok, f"{url} (HTTP {resp.status_code})")
    except httpx.HTTPError as err:
        return Part("chat", False, f"{url} not answering ({err.__class__.__name__})")


def restriction_checks(settings: Settings) -> str:
    """Each user's last bulk restriction check, e.g. "; checks: ann done 120/120"."""
    from tools.restrictions.progress import all_progress, summary_line

    try:
        with session_scope(settings) as session:
            line = summary_line(all_progress(session))
    except Exception:  # status must report, not crash
        return ""
    return f"; checks: {line}" if line else ""


# ---- chat storage per user ------------------------------------------------------------------

# Chainlit's history: what each row keeps, per thread (the same SQL on SQLite and PostgreSQL)
_HISTORY_SQL = (
    """SELECT "threadId", sum(length(coalesce("input", '')) + length(coalesce("output", ''))
       + length(coalesce(CAST("metadata" AS TEXT), ''))) FROM steps GROUP BY "threadId" """,
    """SELECT "threadId", sum(length(coalesce("props", '')) + length(coalesce("url", '')))
       FROM elements GROUP BY "threadId" """,
    """SELECT "threadId", sum(length(coalesce("comment", '')) + 8) FROM feedbacks
       GROUP BY "threadId" """,
)
_SQLITE_CHECKPOINTS_SQL = (
    "SELECT thread_id, sum(length(checkpoint) + length(metadata)) FROM checkpoints "
    "GROUP BY thread_id",
    "SELECT thread_id, sum(length(value)) FROM writes GROUP BY thread_id",
)
_PG_CHECKPOINTS_SQL = (
    "SELECT thread_id, sum(pg_column_size(checkpoint) + pg_column_size(metadata)) "
    "FROM checkpoints GROUP BY thread_id",
    "SELECT thread_id, sum(pg_column_size(blob)) FROM checkpoint_blobs GROUP BY thread_id",
    "SELECT thread_id, sum(pg_column_size(blob)) FROM checkpoint_writes GROUP BY thread_id",
)
NO_CHAT = "(no chat)"


def _add(into: dict[str, int], rows: Any) -> None:
    for thread_id, size in rows:
        into[str(thread_id)] = into.get(str(thread_id), 0) + int(size or 0)


def _checkpoint_bytes(settings: Settings) -> dict[str, int]:
    """The agent's checkpoints per thread (SQLite file in DATA_DIR, or PostgreSQL tables)."""
    import sqlite3

    out: dict[str, int] = {}
    if settings.is_sqlite:
        path = settings.checkpoints_path
        if not path.exists():
            return out
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            for sql in _SQLITE_CHECKPOINTS_SQL:
                try:
                    _add(out, conn.execute(sql).fetchall())
                except sqlite3.OperationalError:  # the agent has not created its tables yet
                    return out
        return out
    with get_engine(settings).connect() as conn:
        for sql in _PG_CHECKPOINTS_SQL:
            try:
                _add(out, conn.execute(text(sql)).fetchall())
            except ProgrammingError:
                conn.rollback()
    return out


def chat_storage(settings: Settings) -> dict[str, dict[str, int]]:
    """Bytes of chat history each user keeps, biggest first: {user: {"chats", "history_bytes",
    "agent_bytes"}}. History is Chainlit's messages, elements and feedback; agent bytes are the
    checkpoints of the user's threads. Checkpoints of no chat (`arbitrage ask`) count under
    "(no chat)". Raises nothing: an unreadable part counts as empty."""
    history: dict[str, int] = {}
    owners: dict[str, str] = {}
    try:
        with get_engine(settings).connect() as conn:
            for thread_id, who in conn.execute(text('SELECT "id", "userIdentifier" FROM threads')):
                owners[str(thread_id)] = str(who or NO_CHAT)
            for sql in _HISTORY_SQL:
                _add(history, conn.execute(text(sql)).fetchall())
    except (OperationalError, ProgrammingError):  # no chat tables yet
        pass
    try:
        agent = _checkpoint_bytes(settings)
    except Exception:  # status must report, not crash
        agent = {}
    out: dict[str, dict[str, int]] = {}
    for thread_id in set(owners) | set(history) | set(agent):
        who = owners.get(thread_id, NO_CHAT)
        row = out.setdefault(who, {"chats": 0, "history_bytes": 0, "agent_bytes": 0})
        row["chats"] += 1 if thread_id in owners else 0
        row["history_bytes"] += history.get(thread_id, 0)
        row["agent_bytes"] += agent.get(thread_id, 0)
    return dict(
        sorted(out.items(), key=lambda kv: -(kv[1]["history_bytes"] + kv[1]["agent_bytes"]))
    )

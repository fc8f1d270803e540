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


def check_redis(settings: Settings, up: dict[str, Any] | None = None) -> Part:
    import redis

    from tools.redis_embedded import RedisUnavailable, display_url, redis_url

    svc = ((up or {}).get("services") or {}).get("redis")
    supervised = f"; {describe_service('redis', svc)}" if svc else ""
    try:
        url = redis_url(settings)
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        mode = "external" if settings.redis_url else "embedded"
        return Part("redis", True, f"{mode} at {display_url(url)}{supervised}")
    except (RedisUnavailable, redis.RedisError) as err:
        return Part("redis", False, f"{err}{supervised}")


def deal_counts(settings: Settings) -> dict[str, int]:
    try:
        with session_scope(settings) as session:
            rows = session.exec(select(Deal.status, func.count()).group_by(Deal.status)).all()
        return {str(getattr(s, "value", s)): int(n) for s, n in rows}
    except Exception:
        return {}


def collect(settings: Settings | None = None, up: dict[str, Any] | None = None) -> list[Part]:
    """Every part but the worker (workers/status.py asks the workers themselves)."""
    settings = settings or get_settings()
    parts = [
        check_database(settings),
        check_redis(settings, up),
        check_chat(settings, up),
    ]
    beat = check_supervised(up, "beat")
    if beat is not None:
        parts.append(beat)
    parts.append(check_ingestion(settings))
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


def local_up(settings: Settings) -> dict[str, Any] | None:
    """The record of the `arbitrage up` running on this DATA_DIR (its ports, pids, restarts),
    or None when none runs here."""
    from tools.runstate import processes

    ups = [r for r in processes(settings) if r.get("role") == "up" and "services" in r]
    return max(ups, key=lambda r: float(r.get("started_at") or 0)) if ups else None


def local_roles(settings: Settings) -> set[str]:
    """The roles of this DATA_DIR's live app processes (`worker`, `beat`, `up`, ...)."""
    from tools.runstate import processes

    return {str(r.get("role")) for r in processes(settings)}


def describe_service(name: str, svc: dict[str, Any], now: float | None = None) -> str:
    """One supervised part as `arbitrage up` last recorded it, for people."""
    import time

    now = now or time.time()
    if svc.get("state") == "restarting":
        head = f"restarting in {svc.get('restart_in_s') or 0:.0f}s"
    else:
        head = f"pid {svc.get('pid')}, up {_ago(now - float(svc.get('started_at') or now))}"
    n = int(svc.get("restarts") or 0)
    if svc.get("last_exit"):
        when = _ago(now - float(svc.get("last_exit_at") or now))
        head += f"; restarted {n}x (last stop: {svc['last_exit']}, {when} ago)"
    return head


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_supervised(up: dict[str, Any] | None, name: str) -> Part | None:
    """A part `up` supervises (beat), from its record; None when `up` does not run it."""
    svc = ((up or {}).get("services") or {}).get(name)
    if svc is None:
        return None
    return Part(name, svc.get("state") == "running", describe_service(name, svc), dict(svc))


def check_ingestion(settings: Settings) -> Part:
    from tools.ingestion import ingestion

    try:
        with session_scope(settings) as session:
            ing = ingestion(session, settings.ingestion_stall_minutes * 60)
    except (OperationalError, ProgrammingError):  # no tables yet
        return Part("ingestion", True, "no runs yet (the database is not created yet)")
    except Exception as err:  # status must report, not crash
        return Part("ingestion", False, f"unknown: {err.__class__.__name__}")
    if ing.stalled:
        return Part("ingestion", False, str(ing.warning()), ing.as_dict())
    ages = [
        f"{t.task} {_ago(t.age_s)} ago" if t.age_s is not None else f"{t.task} not yet"
        for t in ing.tasks
    ]
    return Part("ingestion", True, "last success: " + ", ".join(ages), ing.as_dict())


def check_chat(settings: Settings, up: dict[str, Any] | None = None) -> Part:
    """The chat where `up` runs it (its record has the port), else at the configured port."""
    import httpx

    url = (up or {}).get("chat_url") or f"http://{settings.chainlit_host}:{settings.chainlit_port}"
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

"""LangChain tools over the proactive parts (tools/alerts/): saved searches with alerts, where
and when they are delivered, the in-app inbox, and today's picks.

Same contract as agent/tools.py: (compact JSON for the model, full data for the UI), errors as
ToolError saying what to fix. Every tool acts for the signed-in seller and only on their rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from langchain_core.tools import BaseTool, InjectedToolArg, tool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from agent.context import AgentContext
from agent.tool_common import ToolError, context_of
from agent.tool_common import to_json as _json
from tools.db import session_scope
from tools.deals.search import DealSearch
from tools.models import SavedSearch, User, utcnow

MAX_REF = 80


@contextmanager
def _seller(runtime: ToolRuntime | None) -> Iterator[tuple[Session, User, AgentContext]]:
    from tools.alerts.store import AlertError

    ctx = context_of(runtime)
    if ctx.user_id is None:
        raise ToolError("Alerts belong to a seller account: sign in first.")
    try:
        with session_scope(ctx.settings) as session:
            user = session.get(User, ctx.user_id)
            if user is None:
                raise ToolError("Your account no longer exists; sign in again.")
            yield session, user, ctx
    except AlertError as err:
        raise ToolError(str(err)) from None


def _search_dict(s: SavedSearch) -> dict[str, Any]:
    from tools.alerts.store import describe

    return {
        "id": s.id,
        "name": s.name,
        "active": s.active,
        "filters": s.query,
        "summary": describe(s.query),
        "created_at": s.created_at.isoformat(),
    }


class AlertCreateArgs(DealSearch):
    """The deal filters to watch (as for search_deals), a name, and the seller's own words."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=80, description="a short name (optional)")
    request: str | None = Field(
        default=None, max_length=500, description="the seller's words, kept with the alert"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("alert_create", args_schema=AlertCreateArgs, response_format="content_and_artifact")
def alert_create(runtime: ToolRuntime, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Save a deal search as an alert ("tell me when ..."): new deals that match it later are
    sent to the seller (in the app, and by webhook or email if set). Deals that match right
    now are counted, and not sent again unless they get better."""
    from tools.alerts.seed import seed_states
    from tools.alerts.store import create_search

    name, request = kwargs.pop("name", None), kwargs.pop("request", None)
    filters = {k: v for k, v in kwargs.items() if v is not None}
    with _seller(runtime) as (session, user, _ctx):
        row = create_search(session, user.id or 0, filters, name=name, text=request)
        now_matching = seed_states(session, row, user, utcnow())
        data = {"created": _search_dict(row), "matching_now": now_matching}
    return _json(data), data


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runtime: Annotated[Any, InjectedToolArg] = None


@tool("alert_list", args_schema=NoArgs, response_format="content_and_artifact")
def alert_list(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """The seller's alerts (saved searches), whether each is on or paused, and how many
    in-app alert messages they have not read."""
    from tools.alerts.store import get_alert_settings, list_searches, unread_since

    with _seller(runtime) as (session, user, _ctx):
        rows = [_search_dict(s) for s in list_searches(session, user.id or 0)]
        unread, since = unread_since(session, user.id or 0)
        target = get_alert_settings(session, user.id or 0)
        data = {
            "alerts": rows,
            "unread": unread,
            "unread_since": since.isoformat() if since else None,
            "delivery": _delivery(target),
        }
    return _json(data), data


class AlertChangeArgs(DealSearch):
    """Which alert, and what to change: filters (as for search_deals), pause or resume."""

    model_config = ConfigDict(extra="forbid")

    alert: str = Field(max_length=MAX_REF, description="the alert's number (#3) or name")
    active: bool | None = Field(default=None, description="false pauses it, true resumes it")
    remove_filters: list[str] = Field(
        default_factory=list, max_length=30, description="filter names to drop from the alert"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("alert_change", args_schema=AlertChangeArgs, response_format="content_and_artifact")
def alert_change(runtime: ToolRuntime, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Change one of the seller's alerts: set filters ("change it to under $25"), drop
    filters, pause or resume it. Filters not named are kept."""
    from tools.alerts.store import set_active, update_search

    ref = str(kwargs.pop("alert"))
    active = kwargs.pop("active", None)
    drop = kwargs.pop("remove_filters", None) or []
    unknown = sorted(set(drop) - set(DealSearch.model_fields))
    if unknown:
        raise ToolError(f"no such filter: {', '.join(unknown)}")
    changes: dict[str, Any] = {k: v for k, v in kwargs.items() if v is not None}
    changes.update({k: None for k in drop})
    with _seller(runtime) as (session, user, _ctx):
        row = None
        if changes:
            row = update_search(session, user.id or 0, ref, changes)
        if active is not None:
            row = set_active(session, user.id or 0, ref, active)
        if row is None:
            raise ToolError("say what to change: a filter, pause or resume")
        data = {"changed": _search_dict(row)}
    return _json(data), data


class AlertRefArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert: str = Field(max_length=MAX_REF, description="the alert's number (#3) or name")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("alert_delete", args_schema=AlertRefArgs, response_format="content_and_artifact")
def alert_delete(alert: str, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Delete one of the seller's alerts."""
    from tools.alerts.store import delete_search

    with _seller(runtime) as (session, user, _ctx):
        name = delete_search(session, user.id or 0, alert)
    data = {"deleted": name}
    return _json(data), data


def _delivery(target: Any) -> dict[str, Any]:
    from tools.security import mask

    return {
        "webhook": mask(target.webhook_url, keep=12) if target.webhook_url else None,
        "webhook_disabled": target.webhook_disabled_at is not None,
        "email": target.email,
        "email_disabled": target.email_disabled_at is not None,
        "timezone": target.timezone,
        "quiet_hours": (
            [target.quiet_start, target.quiet_end] if target.quiet_start is not None else None
        ),
        "digest": target.digest,
        "picks_count": target.picks_count,
        "picks_hour": target.picks_hour,
    }


class AlertSettingsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254, description="send alerts here")
    webhook_url: str | None = Field(
        default=None, max_length=500, description="a Discord or Slack incoming-webhook URL"
    )
    remove: list[str] = Field(
        default_factory=list, max_length=4, description="'email' and/or 'webhook' to stop"
    )
    timezone: str | None = Field(default=None, max_length=64, description="e.g. America/Chicago")
    quiet_start: int | None = Field(default=None, ge=0, le=23, description="quiet from (hour)")
    quiet_end: int | None = Field(default=None, ge=0, le=23, description="quiet until (hour)")
    digest: str | None = Field(default=None, description="off, hourly or daily")
    picks_count: int | None = Field(default=None, ge=0, le=20, description="daily picks, 0 off")
    picks_hour: int | None = Field(default=None, ge=0, le=23, description="local hour of picks")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("alert_settings", args_schema=AlertSettingsArgs, response_format="content_and_artifact")
def alert_settings(runtime: ToolRuntime, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Where and when the seller's alerts and daily picks go: email, a webhook (Discord or
    Slack), time zone, quiet hours, digest (off/hourly/daily), number and hour of the daily
    picks. With no arguments it shows the current settings."""
    from tools.alerts.delivery import store_webhook
    from tools.alerts.store import get_alert_settings, update_alert_settings
    from tools.netguard import FetchError, allowing, check_url

    remove = kwargs.pop("remove", None) or []
    url = kwargs.pop("webhook_url", None)
    changes = {k: v for k, v in kwargs.items() if v is not None}
    secret = None
    with _seller(runtime) as (session, user, ctx):
        uid = user.id or 0
        if "email" in remove:
            changes["email"] = None
        if changes:
            update_alert_settings(session, uid, **changes)
        target = get_alert_settings(session, uid)
        if url is not None or "webhook" in remove:
            if url:
                try:
                    check_url(url, is_allowed=allowing(ctx.settings.alerts_allowed_networks))
                except FetchError as err:
                    raise ToolError(f"that webhook cannot be used: {err}") from None
            secret = store_webhook(target, url or None, ctx.settings)
            session.add(target)
        data: dict[str, Any] = {"settings": _delivery(target)}
        if secret:
            data["webhook_secret"] = secret  # shown once: the receiver checks signatures with it
    return _json(data), data


@tool("alerts_inbox", args_schema=NoArgs, response_format="content_and_artifact")
def alerts_inbox(runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """The seller's newest in-app alert messages (matches, daily picks, notices); shown ones
    are marked read."""
    from tools.alerts.messages import render
    from tools.alerts.store import inbox, mark_read

    with _seller(runtime) as (session, user, _ctx):
        rows = inbox(session, user.id or 0, limit=10)
        items = [
            {
                "id": r.id,
                "kind": r.kind,
                "at": r.created_at.isoformat(),
                "new": r.read_at is None,
                "text": render(r.kind, r.payload)[1],
            }
            for r in rows
        ]
        mark_read(session, user.id or 0, [r.id for r in rows if r.id is not None], utcnow())
    data = {"messages": items}
    return _json(data), data


class PicksArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=5, ge=1, le=20, description="how many picks")
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("picks_show", args_schema=PicksArgs, response_format="content_and_artifact")
def picks_show(runtime: ToolRuntime, count: int = 5) -> tuple[str, dict[str, Any]]:
    """Ava's picks now: the deals most likely to make this seller money (profit at their
    settings, listable by them, selling against the competition, Deal Trust, fresh data),
    each with a one-line reason."""
    from tools.alerts.picks import picks_for

    with _seller(runtime) as (session, user, _ctx):
        picks = picks_for(session, user, utcnow(), count=count)
    data = {"picks": [p.as_payload() for p in picks]}
    return _json(data), data


ALERT_TOOLS: list[BaseTool] = [
    alert_create,
    alert_list,
    alert_change,
    alert_delete,
    alert_settings,
    alerts_inbox,
    picks_show,
]

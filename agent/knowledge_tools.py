"""Admin tools over what was taught: list / search, show, edit and delete strategies (S..) and
mental models (M..).

Same contract as agent/tools.py. Reading is immediate; an edit or a delete is not done by the
tool: it puts the change in the graph's `pending_knowledge` and the approval node (the same
one teaching uses) interrupts for the admin's yes or no, showing the entry before and after.
Every tool refuses a non-admin itself, because a model can call a tool it was never offered.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, InjectedToolArg, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field

from agent.tool_common import ToolError, context_of, require_admin
from agent.tool_common import to_json as _json
from tools.db import session_scope

LIST_TEXT_CHARS = 220
REF = Field(min_length=2, max_length=12, description="the entry's reference, like S12 or M3")


def _entry_or_fail(session: Any, ref: str) -> Any:
    from knowledge import KnowledgeError, get_entry, parse_ref

    try:
        kind, entry_id = parse_ref(ref)
    except KnowledgeError as err:
        raise ToolError(str(err)) from None
    entry = get_entry(session, kind, entry_id)
    if entry is None:
        raise ToolError(f"There is no {ref.strip().upper()} in the knowledge base.")
    return entry


def _short(d: dict[str, Any]) -> dict[str, Any]:
    text = str(d.get("text") or "")
    if len(text) > LIST_TEXT_CHARS:
        text = text[: LIST_TEXT_CHARS - 1].rsplit(" ", 1)[0] + "…"
    out = {k: d[k] for k in ("ref", "kind", "title", "category") if d.get(k)}
    return {**out, "text": text}


class KnowledgeListArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(
        default=None,
        max_length=300,
        description="words or a category to look for (e.g. 'seasonality'); none lists newest",
    )
    kind: Literal["strategy", "mental_model"] | None = Field(
        default=None, description="only strategies or only mental models"
    )
    limit: int = Field(default=15, ge=1, le=50)
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("knowledge_list", args_schema=KnowledgeListArgs, response_format="content_and_artifact")
def knowledge_list(
    runtime: ToolRuntime,
    query: str | None = None,
    kind: Literal["strategy", "mental_model"] | None = None,
    limit: int = 15,
) -> tuple[str, dict[str, Any]]:
    """Admin only. The taught strategies and mental models with their references, newest
    first, or those matching `query` best first ("show strategies about seasonality")."""
    from knowledge import knowledge_counts, list_knowledge, search_entries

    ctx = context_of(runtime)
    require_admin(ctx, "managing the knowledge base")
    with session_scope(ctx.settings) as session:
        found = (
            search_entries(session, query, kind=kind, limit=limit)
            if query and query.strip()
            else list_knowledge(session, kind=kind, limit=limit)
        )
        counts = knowledge_counts(session)
    entries = [e.as_dict() for e in found]
    data = {"query": query, "kind": kind, "counts": counts, "entries": entries}
    return _json({**data, "entries": [_short(e) for e in entries]}), data


class RefArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = REF
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("knowledge_show", args_schema=RefArgs, response_format="content_and_artifact")
def knowledge_show(ref: str, runtime: ToolRuntime) -> tuple[str, dict[str, Any]]:
    """Admin only. One taught entry in full: its text, category, source and approver."""
    ctx = context_of(runtime)
    require_admin(ctx, "managing the knowledge base")
    with session_scope(ctx.settings) as session:
        entry = _entry_or_fail(session, ref).as_dict()
    return _json(entry), entry


def _pending(runtime: ToolRuntime, name: str, change: dict[str, Any]) -> Command:
    """Hand the change to the approval node; the tool's message is replaced by the outcome."""
    call_id = runtime.tool_call_id or name
    pending = {
        "change": change,
        "tool": name,
        "tool_call_id": call_id,
        "message_id": f"{name}-{call_id}",
    }
    msg = ToolMessage(
        content=_json({"status": "awaiting_approval", "ref": change["ref"]}),
        tool_call_id=call_id,
        name=name,
        id=pending["message_id"],
    )
    return Command(update={"pending_knowledge": pending, "messages": [msg]})


class EditArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = REF
    text: str | None = Field(
        default=None, min_length=10, max_length=4000, description="new wording"
    )
    title: str | None = Field(
        default=None, min_length=1, max_length=200, description="a mental model's new title"
    )
    category: str | None = Field(
        default=None, min_length=1, max_length=40, description="the new category"
    )
    runtime: Annotated[Any, InjectedToolArg] = None


@tool("knowledge_edit", args_schema=EditArgs)
def knowledge_edit(
    ref: str,
    runtime: ToolRuntime,
    text: str | None = None,
    title: str | None = None,
    category: str | None = None,
) -> Command:
    """Admin only. Change a taught entry's text, title (mental models) or category. The admin
    sees it before and after and approves it; nothing changes until then."""
    from knowledge import KnowledgeError, plan_edit

    ctx = context_of(runtime)
    require_admin(ctx, "editing the knowledge base")
    with session_scope(ctx.settings) as session:
        entry = _entry_or_fail(session, ref)
        try:
            _, change = plan_edit(
                session, entry.kind, entry.id, text=text, title=title, category=category
            )
        except KnowledgeError as err:
            raise ToolError(f"{err}. Nothing was changed.") from None
    before = entry.as_dict()
    return _pending(
        runtime,
        "knowledge_edit",
        {
            "action": "edit",
            "ref": entry.ref,
            "before": before,
            "after": {**before, **change},
            "fields": sorted(change),
        },
    )


@tool("knowledge_delete", args_schema=RefArgs)
def knowledge_delete(ref: str, runtime: ToolRuntime) -> Command:
    """Admin only. Delete a taught entry; the admin sees it and approves first."""
    ctx = context_of(runtime)
    require_admin(ctx, "deleting from the knowledge base")
    with session_scope(ctx.settings) as session:
        entry = _entry_or_fail(session, ref).as_dict()
    return _pending(
        runtime, "knowledge_delete", {"action": "delete", "ref": entry["ref"], "before": entry}
    )


def apply_change(session: Any, change: dict[str, Any], actor: Any) -> dict[str, Any]:
    """Do an approved edit or delete (the approval node calls this); the outcome as a dict."""
    from knowledge import (
        KnowledgeError,
        PermissionDenied,
        delete_knowledge,
        edit_knowledge,
        parse_ref,
    )

    kind, entry_id = parse_ref(change["ref"])
    try:
        if change["action"] == "delete":
            if not delete_knowledge(session, kind, entry_id, actor):
                return {"status": "error", "ref": change["ref"], "error": "it was already gone"}
            return {"status": "deleted", "ref": change["ref"]}
        after = change.get("after") or {}
        fields = {f: after.get(f) for f in change.get("fields") or ()}
        done = edit_knowledge(session, kind, entry_id, actor, **fields)
    except (KnowledgeError, PermissionDenied) as err:
        return {"status": "error", "ref": change["ref"], "error": str(err)}
    return {
        "status": "edited",
        "ref": done.after.ref,
        "fields": sorted(fields),
        "entry": done.after.as_dict(),
    }


KNOWLEDGE_ADMIN_TOOLS: list[BaseTool] = [
    knowledge_list,
    knowledge_show,
    knowledge_edit,
    knowledge_delete,
]
CHANGE_TOOLS = frozenset({"knowledge_edit", "knowledge_delete"})

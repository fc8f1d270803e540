"""The offline model's answers to the knowledge-management tools (list, show, edit, delete).

Plain sentences an admin can act on: each entry with its reference (to show, edit or delete
it next), and after an edit or delete exactly what happened, or that nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAMES = frozenset({"knowledge_list", "knowledge_show", "knowledge_edit", "knowledge_delete"})
LIST_TEXT = 160


def _kind(d: Mapping[str, Any]) -> str:
    return "mental model" if d.get("kind") == "mental_model" else "strategy"


def _line(d: Mapping[str, Any]) -> str:
    text = str(d.get("text") or "")
    if len(text) > LIST_TEXT:
        text = text[: LIST_TEXT - 1].rsplit(" ", 1)[0] + "…"
    title = f"**{d['title']}**: " if d.get("title") else ""
    return f"- **{d.get('ref')}** ({d.get('category')}) {title}{text}"


def _full(d: Mapping[str, Any]) -> str:
    head = f"**{d.get('ref')}**, a {_kind(d)} in {d.get('category')}"
    title = f"\n\n**{d['title']}**" if d.get("title") else ""
    by = d.get("approved_by")
    when = str(d.get("approved_at") or "")[:10]
    prov = f"Source: {d.get('source')}" + (f"; approved by {by}" if by else "")
    prov += f" on {when}" if by and when else ""
    return f"{head}:{title}\n\n{d.get('text')}\n\n{prov}."


def _list(d: Mapping[str, Any]) -> str:
    entries = list(d.get("entries") or [])
    what = {"strategy": "strategies", "mental_model": "mental models"}.get(
        str(d.get("kind")), "entries"
    )
    about = f" about “{d['query']}”" if d.get("query") else ""
    if not entries:
        counts = d.get("counts") or {}
        return (
            f"No {what}{about} found (the base holds {counts.get('strategy', 0)} strategies "
            f"and {counts.get('mental_model', 0)} mental models). Try other words, or "
            '"list strategies" for the newest.'
        )
    n = len(entries)
    one = {"strategies": "strategy", "mental models": "mental model", "entries": "entry"}
    lines = "\n".join(_line(e) for e in entries)
    return (
        f"{n} {what if n != 1 else one[what]}{about}:"
        f"\n\n{lines}\n\n"
        'Say "show S1", "edit S1: <new wording>", "set the category of S1 to ..." or '
        '"delete S1" (with the reference you mean).'
    )


def _change(name: str, d: Mapping[str, Any]) -> str:
    ref = d.get("ref", "the entry")
    status = d.get("status")
    if status == "awaiting_approval":
        return f"The change to {ref} is waiting for your approval."
    if status == "rejected":
        what = "deletion" if name == "knowledge_delete" else "edit"
        return f"Not changed: you rejected the {what} of {ref}."
    if status == "deleted":
        return f"Deleted {ref}; no persona uses it from now on."
    if status == "edited":
        fields = ", ".join(d.get("fields") or []) or "it"
        entry = d.get("entry") or {}
        return f"Updated {ref} ({fields}); every persona uses the new version now.\n\n" + (
            _full(entry) if entry else ""
        )
    return f"Nothing was changed in {ref}: {d.get('error', 'the approval did not finish')}."


def answer(name: str, data: Any) -> str | None:
    """The answer to one knowledge tool's result, or None for any other tool."""
    if name not in NAMES or not isinstance(data, Mapping):
        return None
    if name == "knowledge_list":
        return _list(data)
    if name == "knowledge_show":
        return _full(data)
    return _change(name, data)

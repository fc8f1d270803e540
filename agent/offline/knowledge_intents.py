"""The offline model's reading of an admin's knowledge-management requests.

Kept apart from the deal-question parser (parser.py): "show strategies about seasonality",
"list mental models", "show S14", "edit S14: <new wording>", "set the category of M3 to
pricing", "rename M3 to ...", "delete S14". Recognized before the deal parser; anything else
goes on. `plan` returns the tool call an LLM would make, a `Reply` when something is missing,
or None. Only the first MAX_PARSE_CHARS characters are read (parser.clip), every pattern is
anchored and linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.offline.parser import clip

ADMIN_ONLY = (
    "Managing the knowledge base (showing, editing or deleting what was taught, like S14) is "
    "for admins, and you are not signed in as one. You can still ask the mentors, e.g. "
    '"how do I pick textbooks in August?", and they cite what was taught.'
)


@dataclass
class Call:
    tool: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    text: str


_REF = r"\b([sm]\d{1,9})\b"
_LEAD = r"^\s*(?:(?:please|pls|ok(?:ay)?|now|and|then)[\s,]+)*(?:(?:can|could|would) you\s+)?"
_THING = r"(?:the\s+)?(?:(?:taught|saved|stored|learned|known)\s+)?"
_ENTRY = r"(?:(?:strategy|rule|mental\s+model|model|entry|knowledge(?:\s+entry)?)\s+)?"
_DELETE = re.compile(
    _LEAD + r"(?:delete|remove|drop|forget|erase|get rid of)\s+" + _THING + _ENTRY + _REF,
    re.I,
)
_SHOW_ONE = re.compile(
    _LEAD
    + r"(?:show|display|open|view|read|print|see)\s+(?:me\s+)?"
    + _THING
    + _ENTRY
    + _REF
    + r"\s*[.?!]*\s*$"
    r"|^\s*what(?:'s| is| does)\s+" + _ENTRY + _REF + r"(?:\s+say)?\s*[.?!]*\s*$",
    re.I,
)
_EDIT_TEXT = re.compile(
    _LEAD
    + r"(?:edit|change|update|reword|rewrite|replace|fix|correct)\s+"
    + _THING
    + _ENTRY
    + _REF
    + r"(?:'s)?(?:\s+(?:text|wording))?\s*(?:to\s+(?:say|read)\b|to\b|:|=|->|with\b|"
    r"so (?:it|that it) (?:says|reads)\b)\s*(.+)$",
    re.S | re.I,
)
_EDIT_BARE = re.compile(
    _LEAD
    + r"(?:edit|change|update|reword|rewrite|fix|correct)\s+"
    + _ENTRY
    + _REF
    + r"\s*[.?!]*\s*$",
    re.I,
)
_EDIT_CATEGORY = re.compile(
    _LEAD
    + r"(?:set|change|update|edit|make|put|move)\s+(?:the\s+)?category\s+(?:of\s+)?"
    + _ENTRY
    + _REF
    + r"\s*(?:to|:|=|as|->)\s*([\w -]{1,40}?)\s*[.!]*\s*$"
    r"|"
    + _LEAD
    + r"(?:set|change|update|edit|make|put|move|recategori[sz]e|file)\s+"
    + _ENTRY
    + _REF
    + r"(?:'s)?\s+(?:category\s+(?:to|:|=|as|->)|(?:into|in|under|to)\s+(?:the\s+)?"
    r"category|(?:into|under)\b)\s*([\w -]{1,40}?)(?:\s+category)?\s*[.!]*\s*$",
    re.I,
)
_EDIT_TITLE = re.compile(
    _LEAD + r"(?:rename|retitle)\s+" + _ENTRY + _REF + r"\s*(?:to|as|:|=|->)\s*(.+?)\s*[.!]*$"
    r"|"
    + _LEAD
    + r"(?:set|change|update|edit)\s+(?:the\s+)?title\s+(?:of\s+)?"
    + _ENTRY
    + _REF
    + r"\s*(?:to|:|=|->)\s*(.+?)\s*[.!]*$"
    r"|"
    + _LEAD
    + r"(?:set|change|update|edit)\s+"
    + _ENTRY
    + _REF
    + r"(?:'s)?\s+title\s*(?:to|:|=|->)\s*(.+?)\s*[.!]*$",
    re.I,
)
_KINDS = (
    r"(strategies|strategy|rules|mental\s+models|models|concepts|knowledge(?:\s+base)?|"
    r"(?:knowledge\s+)?entries|everything (?:you|i) (?:know|taught|were taught))"
)
_LIST = re.compile(
    _LEAD + r"(?:show|list|display|find|search|see|give|get)\s+(?:me\s+)?"
    r"(?:all\s+|every\s+)?(?:of\s+)?"
    + _THING
    + r"(?:(?P<adj>(?!mental\b|knowledge\b)[\w-]+)\s+)?(?P<kind>"
    + _KINDS[1:]
    + r"(?:\s+(?:in (?:the )?category|about|on|for|with|mentioning|matching|in|tagged|around|"
    r"regarding|that mention)\s+(?P<about>.+?))?\s*[.?!]*\s*$"
    r"|" + _LEAD + r"search\s+(?:the\s+)?(?:knowledge(?:\s+base)?|strategies|mental models)"
    r"\s+for\s+(?P<for>.+?)\s*[.?!]*\s*$",
    re.I,
)
_NOT_TOPIC = frozenset(
    {
        "my", "your", "our", "the", "all", "every", "current", "stored", "saved",
        "taught", "known", "admin", "admins", "new", "latest", "recent",
    }
)  # fmt: skip
MAX_EDIT_CHARS = 4100  # the store takes 4,000 characters of text; the command's words on top


def _kind(word: str) -> str | None:
    w = word.lower()
    if w.startswith(("strateg", "rule")):
        return "strategy"
    if "model" in w or w.startswith("concept"):
        return "mental_model"
    return None


def _clean(text: str) -> str:
    return text.strip().strip("\"'“”‘’").strip()


def plan(text: str) -> Call | Reply | None:
    """The knowledge tool call for an admin's request, or None when it is not one."""
    full = text.strip()[:MAX_EDIT_CHARS]
    raw = clip(full)[0]  # what the patterns read; an edit's new wording is taken from `full`
    if m := _EDIT_TITLE.match(raw):
        ref = next(g for g in (m.group(1), m.group(3), m.group(5)) if g)
        span = next(i for i in (2, 4, 6) if m.group(i))
        return Call(
            "knowledge_edit",
            {"ref": ref.upper(), "title": _clean(raw[m.start(span) : m.end(span)])},
        )
    if m := _EDIT_CATEGORY.match(raw):
        ref = m.group(1) or m.group(3)
        category = _clean(m.group(2) or m.group(4) or "")
        return Call("knowledge_edit", {"ref": ref.upper(), "category": category})
    if m := _EDIT_TEXT.match(raw):
        new = _clean(full[m.start(2) :])
        if len(new) < 10:
            return Reply(
                f"What should {m.group(1).upper()} say instead? Write e.g. "
                f'"edit {m.group(1).upper()}: <the new wording>" (at least 10 characters).'
            )
        return Call("knowledge_edit", {"ref": m.group(1).upper(), "text": new})
    if m := _EDIT_BARE.match(raw):
        ref = m.group(1).upper()
        return Reply(
            f'What should change in {ref}? Say "edit {ref}: <the new wording>", "set the '
            f'category of {ref} to ..." or, for a mental model, "rename {ref} to ...".'
        )
    if m := _DELETE.match(raw):
        return Call("knowledge_delete", {"ref": m.group(1).upper()})
    if m := _SHOW_ONE.match(raw):
        return Call("knowledge_show", {"ref": (m.group(1) or m.group(2)).upper()})
    if m := _LIST.match(raw):
        args: dict[str, Any] = {}
        kind = _kind(m.group("kind") or "")
        if kind:
            args["kind"] = kind
        adj = m.group("adj")
        topic = m.group("about") or m.group("for")
        if topic:
            args["query"] = _clean(topic)
        elif adj and adj.lower() not in _NOT_TOPIC:
            args["query"] = raw[m.start("adj") : m.end("adj")]
        return Call("knowledge_list", args)
    return None

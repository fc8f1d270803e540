"""The offline model's reading of alert and picks requests.

"tell me when a nursing book under $30 with ROI over 50% shows up", "watch for ...", "alert me
if ...", "my alerts", "pause the nursing alert", "delete alert #3", "change it to under $25",
"email my alerts to me@example.com", "quiet hours 10pm to 7am", "hourly digest", "show today's
picks", "any new alerts?". The deal filters of an alert are read by the deal-question parser,
so an alert understands exactly what a question would. `plan` returns the tool call an LLM
would make, a `Reply` when something is missing, or None when the message is not about alerts.
Only the first MAX_PARSE_CHARS characters are read, and every pattern is linear.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage

from agent.offline.parser import clip, parse_filters
from agent.offline.tracking_intents import Call, Reply

_WHEN = r"(?:when(?:ever)?|if|once|as soon as|the moment)"
_CREATE = re.compile(
    r"^\s*(?:(?:please|ava|hey|ok)[,\s]+)*(?:can you\s+|could you\s+)?"
    rf"(?:(?:tell me|let me know)\s+{_WHEN}"  # "tell me about X" is a question, not an alert
    rf"|(?:alert|notify|ping|message|text|email|warn) me(?:\s+(?:{_WHEN}|about|of|for))?"
    r"|(?:watch(?: out)?|keep an eye out|keep watching|look out) for"
    r"|(?:set (?:up )?|create |make )an alert(?: for| when| if)?"
    r"|save (?:this|that) (?:search|as an alert))"
    r"\b\s*(?P<rest>.*)$",
    re.I | re.S,
)
_SHOWS_UP = re.compile(
    r"\s*(?:shows? up|appears?|comes? (?:up|in|along|back)|is (?:listed|available)|"
    r"pops? up|drops? (?:in|below)|hits?)\s*[.!?]*\s*$",
    re.I,
)
_LIST = re.compile(
    r"\b(?:my|list|show|see|what are)\b[^.?!]{0,20}?\b(?:alerts|saved searches|watches)\b|"
    r"\bwhat (?:am i|are you) watching\b",
    re.I,
)
_INBOX = re.compile(
    r"\b(?:any|new|unread|latest|recent)\b[^.?!]{0,20}?\b(?:alerts?|matches|notifications?)\b"
    r"|\bwhat'?s new\b|\balerts? inbox\b|\binbox\b",
    re.I,
)
_PICKS = re.compile(
    r"\b(?:today'?s|daily|morning|ava'?s|your)\s+picks?\b|\bpicks?\s+(?:for\s+)?today\b|"
    r"\bshow (?:me )?(?:the )?picks\b",
    re.I,
)
_REF = r"(?:alert|watch|saved search)"
_ALERT_REF = re.compile(
    rf"#\s*(?P<num>\d{{1,9}})|\b{_REF}\s+(?:number\s+|no\.?\s*)?(?P<num2>\d{{1,9}})\b|"
    rf"\bthe\s+(?P<name>[\w$%.,' -]{{1,60}}?)\s+{_REF}\b|"
    rf"\b{_REF}\s+(?:called|named)\s+[\"']?(?P<name2>[^\"'.?!]{{1,60}})",
    re.I,
)
_PAUSE = re.compile(r"\b(?:pause|stop|mute|suspend|turn off|disable|snooze)\b", re.I)
_RESUME = re.compile(
    r"\b(?:resume|restart|unpause|unmute|turn (?:it |that )?back on|enable|reactivate)\b", re.I
)
_DELETE = re.compile(r"\b(?:delete|remove|cancel|drop|get rid of|forget)\b", re.I)
_CHANGE = re.compile(
    r"^\s*(?:please\s+)?(?:change|make|update|set|edit|adjust|tighten|loosen)\s+"
    r"(?P<what>it|that|this|the\s+[^.?!]{1,60}?\s+alert|(?:my\s+)?(?:last\s+)?alert(?:\s*#?\s*\d{1,9})?)"
    r"\s+(?:to|so (?:it'?s|that it'?s)|for|with)\s+(?P<rest>.+)$",
    re.I | re.S,
)
# "#3" alone could be a purchase ("delete purchase #3"): an alert is named as one
_ABOUT_ALERTS = re.compile(rf"\b{_REF}s?\b", re.I)

_EMAIL = re.compile(
    r"\b(?:email|e-mail|mail)\b[^@\n]{0,40}?(?P<addr>[^@\s<>,;]{1,64}@[^@\s<>,;]{1,190}\.[A-Za-z]{2,24})",
    re.I,
)
_WEBHOOK = re.compile(r"(?P<url>https?://[^\s<>\"']{1,490})", re.I)
_HOOK_WORD = re.compile(r"\b(?:webhook|discord|slack)\b", re.I)
_STOP_CHANNEL = re.compile(
    r"\b(?:stop|no more|turn off|remove|disable)\b[^.?!]{0,30}?"
    r"\b(?P<what>email|webhook|discord|slack)",
    re.I,
)
_QUIET = re.compile(
    r"\bquiet\s+(?:hours|time)?\s*(?:from|between|is|are|:)?\s*(?P<a>\d{1,2})\s*(?::00)?\s*(?P<ap>am|pm)?"
    r"\s*(?:to|until|till|-|and)\s*(?P<b>\d{1,2})\s*(?::00)?\s*(?P<bp>am|pm)?",
    re.I,
)
_NO_QUIET = re.compile(r"\b(?:no|turn off|remove|clear)\s+(?:the\s+)?quiet\s+hours\b", re.I)
_DIGEST = re.compile(
    r"\b(?P<mode>hourly|daily)\s+digest\b|\bdigest\s+(?P<mode2>hourly|daily|off)\b"
    r"|\b(?:no|turn off the|stop the)\s+digest\b",
    re.I,
)
_TZ = re.compile(
    r"\b(?:time\s*zone|timezone|tz)\s*(?:is|to|:|=)?\s*(?P<tz>[A-Za-z]{2,20}(?:/[A-Za-z_+-]{2,30}){0,2}|UTC)\b",
    re.I,
)
_PICKS_COUNT = re.compile(r"\b(?P<n>\d{1,2})\s+(?:daily\s+)?picks\b", re.I)
_PICKS_HOUR = re.compile(
    r"\bpicks\b[^.?!]{0,30}?\bat\s+(?P<h>\d{1,2})\s*(?::00)?\s*(?P<ap>am|pm)?", re.I
)
_NO_PICKS = re.compile(
    r"\b(?:no|stop|turn off|disable)\s+(?:the\s+|my\s+)?(?:daily\s+)?picks\b", re.I
)


def _hour(h: str, ap: str | None) -> int | None:
    n = int(h)
    if ap:
        if not 1 <= n <= 12:
            return None
        n = n % 12 + (12 if ap.lower() == "pm" else 0)
    return n if 0 <= n <= 23 else None


def _ref(text: str, last_alert: str | None) -> str | None:
    m = _ALERT_REF.search(text)
    if m:
        num = m.group("num") or m.group("num2")
        if num:
            return num
        name = (m.group("name") or m.group("name2") or "").strip()
        if name and name.lower() not in ("last", "that", "this", "my", "new"):
            return name
    if re.search(r"\b(?:it|that|this|last)\b", text, re.I):
        return last_alert
    return last_alert if _ABOUT_ALERTS.search(text) else None


def _settings(text: str) -> dict[str, Any] | None:
    """Alert delivery settings named in the message, or None when it names none."""
    args: dict[str, Any] = {}
    remove: list[str] = []
    if m := _STOP_CHANNEL.search(text):
        remove.append("email" if m.group("what").lower() == "email" else "webhook")
    elif m := _EMAIL.search(text):
        args["email"] = m.group("addr")
    elif _HOOK_WORD.search(text) and (m := _WEBHOOK.search(text)):
        args["webhook_url"] = m.group("url").rstrip(".,)")
    if _NO_QUIET.search(text):
        args["quiet_start"] = args["quiet_end"] = 0
    elif m := _QUIET.search(text):
        a, b = _hour(m.group("a"), m.group("ap")), _hour(m.group("b"), m.group("bp"))
        if a is not None and b is not None:
            args["quiet_start"], args["quiet_end"] = a, b
    if m := _DIGEST.search(text):
        args["digest"] = (m.group("mode") or m.group("mode2") or "off").lower()
    if m := _TZ.search(text):
        args["timezone"] = m.group("tz")
    if _NO_PICKS.search(text):
        args["picks_count"] = 0
    elif m := _PICKS_COUNT.search(text):
        args["picks_count"] = int(m.group("n"))
    if m := _PICKS_HOUR.search(text):
        h = _hour(m.group("h"), m.group("ap"))
        if h is not None:
            args["picks_hour"] = h
    if remove:
        args["remove"] = remove
    return args or None


def last_alert(messages: Sequence[BaseMessage]) -> str | None:
    """The alert the thread last created or changed ("pause it", "change it to ...")."""
    for msg in reversed(messages):
        if isinstance(msg, ToolMessage) and msg.name in ("alert_create", "alert_change"):
            try:
                data = json.loads(msg.content if isinstance(msg.content, str) else "")
            except ValueError:
                continue
            row = data.get("created") or data.get("changed") if isinstance(data, dict) else None
            if isinstance(row, dict) and row.get("id") is not None:
                return str(row["id"])
    return None


def plan(text: str, *, last_alert: str | None = None) -> Call | Reply | None:
    """The alert tool call this message asks for, if it is about alerts or picks."""
    body, _ = clip(text.strip())
    if m := _CREATE.match(body):
        rest = _SHOWS_UP.sub("", m.group("rest")).strip()
        if not rest:
            return Reply(
                'What should I watch for? For example: "tell me when a nursing book under $30 '
                'with ROI over 50% shows up".'
            )
        filters = parse_filters(rest).filters()
        for key in ("sort", "limit", "offset"):
            filters.pop(key, None)
        if not filters:
            return Reply(
                f"I could not find a deal filter in {rest[:80]!r}. Name a subject, a price, an "
                'ROI, a rank or a profit, e.g. "watch for biology textbooks under $25".'
            )
        return Call("alert_create", {**filters, "request": body[:500]})
    if m := _CHANGE.match(body):
        ref = _ref(m.group("what"), last_alert)
        if ref is None:
            if not _ABOUT_ALERTS.search(m.group("what")):
                return None  # "change it to under $25" about a search, not an alert
            return Reply(
                'Which alert? Say its number or name, e.g. "change alert #2 to under $25".'
            )
        changes = parse_filters(m.group("rest")).filters()
        for key in ("sort", "limit", "offset"):
            changes.pop(key, None)
        if not changes:
            return Reply(f"I did not find a filter to set in {m.group('rest')[:80]!r}.")
        return Call("alert_change", {"alert": ref, **changes})
    about = _ABOUT_ALERTS.search(body) is not None
    pronoun = last_alert is not None and re.fullmatch(
        r"\s*(?:please\s+)?(?:pause|stop|mute|resume|unpause|restart)\s+(?:it|that|this)"
        r"(?:\s+(?:one|alert))?(?:\s+please)?\s*[.!]*\s*",
        body,
        re.I,
    )
    if pronoun or (about and (_PAUSE.search(body) or _RESUME.search(body) or _DELETE.search(body))):
        ref = _ref(body, last_alert)
        if ref is None:
            return Reply('Which alert? Say its number or name, e.g. "pause alert #2".')
        if _DELETE.search(body) and not _PAUSE.search(body):
            return Call("alert_delete", {"alert": ref})
        return Call("alert_change", {"alert": ref, "active": bool(_RESUME.search(body))})
    if _PICKS.search(body) and not _settings(body):
        return Call("picks_show", {})
    settings = _settings(body)
    if settings is not None and (
        about
        or _HOOK_WORD.search(body)
        or re.search(r"\b(?:quiet|digest|picks|time\s*zone|email)\b", body, re.I)
    ):
        return Call("alert_settings", settings)
    if _INBOX.search(body) and not _LIST.search(body):
        return Call("alerts_inbox", {})
    if _LIST.search(body):
        return Call("alert_list", {})
    if re.search(r"\balert settings\b|\bwhere do my alerts go\b", body, re.I):
        return Call("alert_settings", {})
    return None

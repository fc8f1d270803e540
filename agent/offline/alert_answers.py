"""The offline model's answers from the alert and picks tools' results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.alerts.messages import deal_line

ALERT_TOOLS = frozenset(
    {
        "alert_create",
        "alert_list",
        "alert_change",
        "alert_delete",
        "alert_settings",
        "alerts_inbox",
        "picks_show",
    }
)


def _alert_line(a: Mapping[str, Any]) -> str:
    state = "" if a.get("active", True) else " (paused)"
    return f"#{a['id']} \u201c{a['name']}\u201d: {a['summary']}{state}"


def _delivery_text(d: Mapping[str, Any]) -> str:
    where = ["in the app"]
    if d.get("email"):
        where.append(
            f"email to {d['email']}"
            + (" (turned off after failures)" if d.get("email_disabled") else "")
        )
    if d.get("webhook"):
        where.append(
            "your webhook" + (" (turned off after failures)" if d.get("webhook_disabled") else "")
        )
    parts = [f"Alerts go {', '.join(where)}"]
    if d.get("quiet_hours") and d["quiet_hours"][0] != d["quiet_hours"][1]:
        a, b = d["quiet_hours"]
        parts.append(f"quiet {a:02d}:00-{b:02d}:00 {d.get('timezone', 'UTC')}")
    if d.get("digest") and d["digest"] != "off":
        parts.append(f"{d['digest']} digest")
    picks = int(d.get("picks_count") or 0)
    parts.append(
        f"{picks} daily picks at {int(d.get('picks_hour') or 0):02d}:00 {d.get('timezone', 'UTC')}"
        if picks
        else "no daily picks"
    )
    return "; ".join(parts) + "."


def answer(key: str, name: str, data: Any, question: str) -> str | None:
    """The answer text for an alert tool's result, or None when `name` is not one of them."""
    if name not in ALERT_TOOLS or not isinstance(data, Mapping):
        return None
    if name == "alert_create":
        a, n = data["created"], int(data.get("matching_now") or 0)
        now = (
            f"{n} deal{'s' if n != 1 else ''} match{'es' if n == 1 else ''} right now (ask me "
            "to show them); I will tell you about new ones and when one of these gets better."
            if n
            else "Nothing matches right now; I will tell you as soon as something does."
        )
        return (
            f"Saved alert #{a['id']} \u201c{a['name']}\u201d ({a['summary']}). {now} "
            'Say "my alerts" to see them, "pause it" or "change it to under $25".'
        )
    if name == "alert_list":
        alerts = data.get("alerts") or []
        if not alerts:
            return (
                'You have no alerts yet. Try: "tell me when a nursing book under $30 with ROI '
                'over 50% shows up".'
            )
        lines = [f"You have {len(alerts)} alert{'s' if len(alerts) != 1 else ''}:"]
        lines += [f"- {_alert_line(a)}" for a in alerts]
        if data.get("unread"):
            lines.append(f"{data['unread']} unread alert message(s): ask \u201cwhat's new?\u201d.")
        lines.append(_delivery_text(data.get("delivery") or {}))
        return "\n".join(lines)
    if name == "alert_change":
        a = data["changed"]
        return f"Updated: {_alert_line(a)}."
    if name == "alert_delete":
        return f"Deleted the alert \u201c{data['deleted']}\u201d."
    if name == "alert_settings":
        text = _delivery_text(data.get("settings") or {})
        if data.get("webhook_secret"):
            text += (
                f"\n\nYour webhook signing secret (shown once): `{data['webhook_secret']}`. Each "
                "POST carries X-AA-Signature: sha256=HMAC(secret, timestamp + '.' + body)."
            )
        return text
    if name == "alerts_inbox":
        msgs = data.get("messages") or []
        if not msgs:
            return "No alert messages yet."
        return "\n\n".join(("**new** " if m.get("new") else "") + str(m["text"]) for m in msgs)
    if name == "picks_show":
        picks = data.get("picks") or []
        if not picks:
            return (
                "No picks right now: no deal is profitable at your settings, listable by you and "
                "selling. Widen your settings or check gating on more deals."
            )
        lines = [f"Ava's picks ({len(picks)}):"] + [
            f"{i}. {deal_line(p)}" for i, p in enumerate(picks, 1)
        ]
        return "\n".join(lines)
    return None

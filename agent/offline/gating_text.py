"""The offline answers' words about gating checked on the spot (agent/gating_now.py).

A search for deals the seller can sell reports what it checked just now and which shown deals
are still unchecked (and why); when nothing is sellable, it says that gating is the cause and
how many deals match otherwise, instead of "No deals match".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _deals(n: int) -> str:
    return f"{n} deal{'s' if n != 1 else ''}"


def checked_line(gating: Mapping[str, Any]) -> str:
    """ "I checked gating for 10 deals just now: 9 you can sell, 1 gated." (or "")"""
    checked = int(gating.get("checked_now") or 0)
    if not checked:
        return ""
    return (
        f"I checked gating for {_deals(checked)} just now: {gating.get('allowed', 0)} you "
        f"can sell, {gating.get('restricted', 0)} gated."
    )


def search_gating_text(result: Mapping[str, Any]) -> tuple[str, str | None]:
    """(a line for the answer, or a whole answer that replaces "No deals match")."""
    gating = result.get("gating")
    if not isinstance(gating, Mapping):
        return "", None
    lines = [checked_line(gating)]
    unchecked = list(gating.get("shown_unchecked") or [])
    if unchecked:
        names = ", ".join(unchecked[:10]) + (" ..." if len(unchecked) > 10 else "")
        why = f" ({str(gating['stopped']).rstrip('.')})" if gating.get("stopped") else ""
        lines.append(
            f"Not checked for gating yet{why}: {names}. They are shown as unknown, so check "
            "one before you buy it; the background checks go on."
        )
    line = " ".join(x for x in lines if x)
    others = gating.get("matches_if_gated_included")
    if not result.get("items") and isinstance(others, int) and others > 0:
        return "", (
            f"None of the {_deals(others)} that match the rest of your search is one you can "
            "sell: " + (line + " " if line else "") + "the others are gated for you. Say "
            '"include the gated ones" to see them with their approval links.'
        )
    return line, None

"""How numbers, counts and titles read in every answer and table, in one place, so the prose
and the table never disagree ("ROI 33 %" above a row that says "32%") and no answer says
"1 drops" or cuts a title to "13th Editio".
"""

from __future__ import annotations

from tools.rounding import cents, dollars, whole

__all__ = ["ELLIPSIS", "cents", "count", "money", "pct", "shorten", "whole"]

ELLIPSIS = "…"


def money(v: float | None) -> str:
    """$1,234.56, or n/a."""
    return "n/a" if v is None else dollars(v)


def pct(v: float | None) -> str:
    """A percent as a whole number ("33 %"), or n/a."""
    return "n/a" if v is None else f"{whole(v)} %"


def count(n: object, noun: str, plural: str | None = None) -> str:
    """ "1 drop", "5 drops", "0 drops" (a missing count reads 0)."""
    k = n if isinstance(n, int) and not isinstance(n, bool) else 0
    return f"{k:,} {noun if k == 1 else plural or noun + 's'}"


def shorten(text: object, limit: int) -> str:
    """`text` in at most `limit` characters: cut at a word and ended with "…" when cut."""
    s = " ".join(str(text or "").split())
    if len(s) <= limit:
        return s
    head = s[: limit - 1]
    blank = head.rfind(" ")
    if blank > limit // 2:
        head = head[:blank]
    return head.rstrip(" ,;:-–(") + ELLIPSIS

"""How numbers, counts and titles read in every answer and table, in one place, so the prose
and the table never disagree ("ROI 33 %" above a row that says "32%") and no answer says
"1 drops" or cuts a title to "13th Editio".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ELLIPSIS = "…"


def cents(v: float) -> float:
    """`v` to the cent exactly as the tools hand it to a model (agent/tools.py rounds every
    float with round(v, 2)), so a number rounds the same from the full value and from that."""
    return round(float(v), 2)


def whole(v: float) -> int:
    """`v` as the whole number a seller reads: to the cent first (see `cents`), then half up,
    so the table (full values) and the prose (values to the cent) agree."""
    try:
        return int(Decimal(repr(cents(v))).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        return 0


def money(v: float | None) -> str:
    """$1,234.56, or n/a."""
    if v is None:
        return "n/a"
    c = cents(v)
    return f"-${-c:,.2f}" if c < 0 else f"${c:,.2f}"


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

"""How a number is rounded for people, everywhere it is shown (tables, answers, a search's best
pick): to the cent as the agent's tools hand values on (round(v, 2)), then half up. The table
gets full values and the prose values to the cent; rounded this way both read the same."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def cents(v: float) -> float:
    """`v` to the cent, as every tool result carries it."""
    return round(float(v), 2)


def whole(v: float) -> int:
    """`v` as a whole number: to the cent first, then half up (32.499 and 32.5 read 33)."""
    try:
        return int(Decimal(repr(cents(v))).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        return 0


def dollars(v: float) -> str:
    """$1,234.56, -$3.10: money to the cent (see `cents`), the sign before the dollar."""
    c = cents(v)
    return f"-${-c:,.2f}" if c < 0 else f"${c:,.2f}"

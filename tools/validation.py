"""Pydantic validation errors in a seller's words: which setting, what is allowed, what was
given ("Sales tax on purchases (%) must be 0 or more; you entered -3"), never pydantic's own
"Input should be greater than or equal to 0"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def _num(v: Any) -> str:
    return f"{v:,g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def rule_text(err: ErrorDetails) -> str:
    """What the value must be, from one pydantic error ("must be 0 or more")."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"must be {_num(ctx.get('ge'))} or more"
    if kind == "greater_than":
        return f"must be more than {_num(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"must be at most {_num(ctx.get('le'))}"
    if kind == "less_than":
        return f"must be less than {_num(ctx.get('lt'))}"
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"):
        return "must be a number" + (" without decimals" if kind == "int_from_float" else "")
    if kind == "bool_parsing":
        return "must be on or off"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if kind == "string_too_long":
        return f"must be at most {_num(ctx.get('max_length'))} characters"
    if kind == "extra_forbidden":
        return "is not a setting"
    msg = str(err.get("msg", "is not valid"))
    return msg.removeprefix("Value error, ").rstrip(".")


def error_text(error: ValidationError, labels: Mapping[str, str] | None = None) -> str:
    """Every error of `error` as one sentence each: "<label> <rule>; you entered <value>"."""
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        label = (labels or {}).get(loc) or loc.replace("_", " ") or "the value"
        entered = err.get("input")
        given = "" if isinstance(entered, dict) or entered is None else f"; you entered {entered}"
        parts.append(f"{label} {rule_text(err)}{given}")
    return ". ".join(parts)

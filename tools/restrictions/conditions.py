"""Map the condition names we meet (ours, Keepa's, Seller Central's) to SP-API conditionType."""

from __future__ import annotations

import re

DEFAULT_CONDITION = "used_very_good"

CONDITION_TYPES = (
    "new_new",
    "new_open_box",
    "new_oem",
    "refurbished_refurbished",
    "used_like_new",
    "used_very_good",
    "used_good",
    "used_acceptable",
    "collectible_like_new",
    "collectible_very_good",
    "collectible_good",
    "collectible_acceptable",
    "club_club",
)

# Keepa offer condition codes (offers[].condition).
_KEEPA_CODES = {
    1: "new_new",
    2: "used_like_new",
    3: "used_very_good",
    4: "used_good",
    5: "used_acceptable",
    6: "refurbished_refurbished",
    7: "collectible_like_new",
    8: "collectible_very_good",
    9: "collectible_good",
    10: "collectible_acceptable",
}

_ALIASES = {
    "new": "new_new",
    "open_box": "new_open_box",
    "oem": "new_oem",
    "refurbished": "refurbished_refurbished",
    "like_new": "used_like_new",
    "mint": "used_like_new",
    "very_good": "used_very_good",
    "good": "used_good",
    "acceptable": "used_acceptable",
    # A bare "used" is the deal pipeline's used-price bucket; we source used books to
    # list as Very Good, so that is the condition a seller needs to be allowed to list.
    "used": "used_very_good",
    "collectible": "collectible_very_good",
    "club": "club_club",
}


class UnknownCondition(ValueError):
    """A condition name that maps to no SP-API conditionType."""


def to_condition_type(condition: str | int | None) -> str:
    """SP-API conditionType for a condition name, code or None (the default)."""
    if condition is None or condition == "":
        return DEFAULT_CONDITION
    if isinstance(condition, int):
        if condition in _KEEPA_CODES:
            return _KEEPA_CODES[condition]
        raise UnknownCondition(f"unknown Keepa condition code {condition}")
    text = condition.strip()
    if text.isdigit():
        return to_condition_type(int(text))
    key = re.sub(r"[^a-z]+", "_", text.lower()).strip("_")
    if key in CONDITION_TYPES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    for prefix in ("used_", "new_", "collectible_"):
        if key.startswith(prefix) and key[len(prefix) :] in _ALIASES:
            mapped = _ALIASES[key[len(prefix) :]]
            candidate = prefix + mapped.split("_", 1)[1]
            if candidate in CONDITION_TYPES:
                return candidate
    raise UnknownCondition(
        f"unknown condition {condition!r}; use one of {', '.join(CONDITION_TYPES)}"
    )

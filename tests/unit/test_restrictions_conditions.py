"""Deal condition names map to the SP-API conditionType the seller would list under."""

from __future__ import annotations

import pytest

from tools.restrictions.conditions import UnknownCondition, to_condition_type


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "used_very_good"),
        ("used_very_good", "used_very_good"),
        ("Used - Very Good", "used_very_good"),
        ("Used - Like New", "used_like_new"),
        ("Used - Good", "used_good"),
        ("good", "used_good"),
        ("acceptable", "used_acceptable"),
        ("New", "new_new"),
        ("Collectible - Very Good", "collectible_very_good"),
        ("used", "used_very_good"),
        (3, "used_very_good"),
        (1, "new_new"),
        ("4", "used_good"),
        (" USED_ACCEPTABLE ", "used_acceptable"),
    ],
)
def test_condition_names_map_to_spapi_types(given: str | int | None, expected: str) -> None:
    assert to_condition_type(given) == expected


@pytest.mark.parametrize("bad", ["shiny", 42, "used_shiny"])
def test_unknown_condition_is_a_clear_error(bad: str | int) -> None:
    with pytest.raises(UnknownCondition, match="unknown"):
        to_condition_type(bad)

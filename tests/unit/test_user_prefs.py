"""The settings panel's errors read as the panel's own words (issue 17, item 7): "tax_pct:
Input should be greater than or equal to 0" was shown to sellers as it came from pydantic."""

from __future__ import annotations

import pytest

from chat_ui.user_prefs import load_prefs, save_prefs
from tests.unit.agent_helpers import add_user
from tools.db import session_scope
from tools.settings import Settings


def test_a_refused_setting_names_the_field_the_rule_and_the_value(settings: Settings) -> None:
    with session_scope(settings) as session:
        add_user(session, "sam")
    with pytest.raises(ValueError) as err:
        save_prefs("sam", {"tax_pct": -3, "prep_fee": 1.0})
    assert str(err.value) == "Sales tax on purchases (%) must be 0 or more; you entered -3"
    with pytest.raises(ValueError, match=r"^Prep fee per unit \(\$\) must be a number; you"):
        save_prefs("sam", {"prep_fee": "two"})
    with pytest.raises(ValueError, match=r"must be at most 30; you entered 99"):
        save_prefs("sam", {"tax_pct": 99})
    assert load_prefs("sam").tax_pct == 5.0  # nothing was saved
    assert save_prefs("sam", {"tax_pct": 8.25}).tax_pct == 8.25


def test_restore_defaults_puts_every_value_back_not_the_last_saved(settings: Settings) -> None:
    from chat_ui.user_prefs import RESTORE, widgets
    from tools.user_settings import UserSettings

    with session_scope(settings) as session:
        add_user(session, "ria")
    save_prefs("ria", {"tax_pct": 8.25, "prep_fee": 2.0, "min_roi": 40, "hide_gated": False})
    prefs = save_prefs("ria", {"tax_pct": 9.0, RESTORE: True})  # edits beside it are dropped
    assert prefs == UserSettings() and load_prefs("ria") == UserSettings()
    switch = [w for w in widgets(prefs) if w.id == RESTORE]
    assert len(switch) == 1 and switch[0].initial is False

"""The seller's money settings in Chainlit's settings panel, saved on their user row.

Every query uses the asking user's values (tools/user_settings.py); this module only moves them
between the panel widgets and the database, validating with the same pydantic model.
"""

from __future__ import annotations

from typing import Any

from chainlit.input_widget import NumberInput, Switch
from pydantic import ValidationError

from tools.db import session_scope
from tools.user_settings import UserSettings, load_user_settings, save_user_settings
from tools.users import get_user
from tools.validation import error_text

# the panel's words for each setting (the widgets' labels), for messages about them
LABELS = {
    "tax_pct": "Sales tax on purchases (%)",
    "prep_fee": "Prep fee per unit ($)",
    "inbound_shipping": "Inbound shipping per unit ($)",
    "min_roi": "Hide deals below ROI (%)",
    "min_profit": "Hide deals below profit ($)",
    "hide_gated": "Hide deals I am gated on",
    "markup_pct": "Markup for the minimum listing price (%)",
}
# Chainlit's own Reset only undoes the edits since the panel opened; this switch, confirmed,
# puts every setting back to its default (and is never stored itself)
RESTORE = "restore_defaults"


def load_prefs(user_name: str) -> UserSettings:
    with session_scope() as session:
        return load_user_settings(get_user(session, user_name))


def widgets(prefs: UserSettings) -> list[Any]:
    return [
        NumberInput(id="tax_pct", label=LABELS["tax_pct"], initial=prefs.tax_pct),
        NumberInput(id="prep_fee", label=LABELS["prep_fee"], initial=prefs.prep_fee),
        NumberInput(
            id="inbound_shipping",
            label=LABELS["inbound_shipping"],
            initial=prefs.inbound_shipping,
        ),
        NumberInput(
            id="min_roi",
            label=LABELS["min_roi"],
            initial=prefs.min_roi,
            placeholder="no minimum",
        ),
        NumberInput(
            id="min_profit",
            label=LABELS["min_profit"],
            initial=prefs.min_profit,
            placeholder="no minimum",
        ),
        Switch(id="hide_gated", label=LABELS["hide_gated"], initial=prefs.hide_gated),
        Switch(
            id=RESTORE,
            label="Restore all defaults on Confirm",
            initial=False,
            description="Chainlit's Reset only undoes unsaved edits; this puts every value "
            "back to the default.",
        ),
    ]


def _blank_to_none(value: Any) -> Any:
    return None if value in ("", None) else value


def save_prefs(user_name: str, values: dict[str, Any]) -> UserSettings:
    """Validate and store; raises ValueError with a readable message (nothing saved then)."""
    with session_scope() as session:
        user = get_user(session, user_name)
        if user is None:
            raise ValueError("your account no longer exists; log in again")
        if values.get(RESTORE):
            prefs = UserSettings()
            save_user_settings(session, user, prefs)
            return prefs
        current = load_user_settings(user).model_dump()
        for key in UserSettings.model_fields:
            if key in values:
                current[key] = _blank_to_none(values[key])
        for key in ("tax_pct", "prep_fee", "inbound_shipping", "markup_pct"):
            if current.get(key) is None:
                current[key] = UserSettings.model_fields[key].default
        try:
            prefs = UserSettings(**current)
        except ValidationError as e:
            raise ValueError(error_text(e, LABELS)) from e
        save_user_settings(session, user, prefs)
        return prefs

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


def load_prefs(user_name: str) -> UserSettings:
    with session_scope() as session:
        return load_user_settings(get_user(session, user_name))


def widgets(prefs: UserSettings) -> list[Any]:
    return [
        NumberInput(id="tax_pct", label="Sales tax on purchases (%)", initial=prefs.tax_pct),
        NumberInput(id="prep_fee", label="Prep fee per unit ($)", initial=prefs.prep_fee),
        NumberInput(
            id="inbound_shipping",
            label="Inbound shipping per unit ($)",
            initial=prefs.inbound_shipping,
        ),
        NumberInput(
            id="min_roi",
            label="Hide deals below ROI (%)",
            initial=prefs.min_roi,
            placeholder="no minimum",
        ),
        NumberInput(
            id="min_profit",
            label="Hide deals below profit ($)",
            initial=prefs.min_profit,
            placeholder="no minimum",
        ),
        Switch(id="hide_gated", label="Hide deals I am gated on", initial=prefs.hide_gated),
    ]


def _blank_to_none(value: Any) -> Any:
    return None if value in ("", None) else value


def save_prefs(user_name: str, values: dict[str, Any]) -> UserSettings:
    """Validate and store; raises ValueError with a readable message (nothing saved then)."""
    with session_scope() as session:
        user = get_user(session, user_name)
        if user is None:
            raise ValueError("your account no longer exists; log in again")
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
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"{field}: {err['msg']}") from e
        save_user_settings(session, user, prefs)
        return prefs

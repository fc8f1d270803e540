"""A seller's own money settings; every query and verdict uses the asking user's values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from tools.models import User


class UserSettings(BaseModel):
    """Policy defaults (docs/domain.md "Money"); users change them in the chat settings panel."""

    model_config = ConfigDict(extra="forbid")

    tax_pct: float = Field(default=5.0, ge=0, le=30, description="sales tax on the buy price, %")
    prep_fee: float = Field(default=2.75, ge=0, le=50, description="prep fee per unit, $")
    inbound_shipping: float = Field(default=3.99, ge=0, le=100, description="inbound shipping, $")
    markup_pct: float = Field(default=10.0, ge=0, le=80, description="markup for Min. Listing, %")
    min_roi: float | None = Field(default=None, ge=-100, le=10_000, description="hide below, %")
    min_profit: float | None = Field(
        default=None, ge=-10_000, le=10_000, description="hide below, $"
    )
    hide_gated: bool = Field(default=False, description="hide deals I cannot sell")


DEFAULT_SETTINGS = UserSettings()


def load_user_settings(user: User | None) -> UserSettings:
    return settings_from(user.settings if user is not None else None)


def settings_from(stored: dict[str, Any] | None) -> UserSettings:
    """A user's stored settings column as UserSettings (keys from older versions ignored)."""
    if not stored:
        return UserSettings()
    return UserSettings(**{k: v for k, v in stored.items() if k in UserSettings.model_fields})


def save_user_settings(session: Session, user: User, settings: UserSettings) -> None:
    user.settings = settings.model_dump()
    session.add(user)

"""What one purchased unit cost in all, at the seller's money settings when it was bought
(shared by the purchases and the realized-profit matching)."""

from __future__ import annotations

from tools.deals import money as m
from tools.models import Purchase
from tools.user_settings import UserSettings


def settings_of(p: Purchase) -> UserSettings:
    """The seller's money settings as they were when this purchase was recorded."""
    return UserSettings(
        tax_pct=p.tax_pct,
        prep_fee=p.prep_fee,
        inbound_shipping=p.inbound_shipping,
        markup_pct=p.markup_pct,
    )


def unit_all_in(p: Purchase) -> float:
    """What one unit cost in all: price + tax + prep + inbound, at the settings then."""
    return m.all_in_cost(p.unit_cost, settings_of(p))

"""Test helpers for the Keepa sandbox."""

from __future__ import annotations

from typing import Any

from tools.sandbox.keepa import SandboxMarket


def known_product(market: SandboxMarket, asin: str, **kw: Any) -> dict[str, Any]:
    """market.product() of an ASIN the market has: the Keepa product dict (cost dropped)."""
    found = market.product(asin, **kw)
    assert found is not None, asin
    return found[0]

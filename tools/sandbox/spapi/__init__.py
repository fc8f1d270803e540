"""The SP-API sandbox: Login with Amazon (lwa.py) and SP-API's listing restrictions
(restrictions.py), FBA inventory (inventory.py), orders (orders.py) and financial events
(finances.py) over one shared state (state.py), composed and served by app.py.

The sellers' records live in world.py: a seeded history per seller (history.py) and the units
a seller sends in (fulfilment.py), which sell when the Keepa sandbox market sells a copy.
"""

from tools.sandbox.spapi.app import make_restrictions_sandbox_app, serve_restrictions_sandbox
from tools.sandbox.spapi.fulfilment import Shipment
from tools.sandbox.spapi.history import HistorySpec
from tools.sandbox.spapi.lwa import (
    LWA_PATH,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SANDBOX_SELLER_ID,
    refresh_token_for,
)
from tools.sandbox.spapi.restrictions import RESTRICTIONS_PATH, sandbox_reason
from tools.sandbox.spapi.state import BAD_REFRESH_TOKEN, SandboxConfig, SandboxState

__all__ = [
    "BAD_REFRESH_TOKEN",
    "LWA_PATH",
    "RESTRICTIONS_PATH",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_REFRESH_TOKEN",
    "SANDBOX_SELLER_ID",
    "HistorySpec",
    "SandboxConfig",
    "SandboxState",
    "Shipment",
    "make_restrictions_sandbox_app",
    "refresh_token_for",
    "sandbox_reason",
    "serve_restrictions_sandbox",
]

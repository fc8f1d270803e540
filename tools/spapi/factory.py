"""Where a seller's sync talks to, as whom, and the embedded sandbox it uses by default.

Credentials as for restriction checks (tools/restrictions/service.py `resolve_route`): the
user's connected account, else the deployment's SPAPI_* account, but that one only for the
user whose seller id it is (another user must never see that seller's sales), else, with no
SP-API app configured, the SP-API sandbox. In the sandbox every user is a seller of their own
(`sandbox_seller_id`), so users never share records there either. The embedded sandbox
(SPAPI_ENDPOINT unset) runs in-process on the Keepa sandbox market's clock and market: the
units a seller sends in sell when that market sells a copy at or above their price.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from tools.models import User
from tools.restrictions.client import SellerCredentials
from tools.restrictions.errors import NotConnected
from tools.restrictions.lwa import LwaCredentials
from tools.restrictions.service import SpApiRoute, resolve_route
from tools.sandbox import spapi as sandbox
from tools.settings import Settings

_apps: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def sandbox_seller_id(user_id: int) -> str:
    """The sandbox seller that stands for one app user."""
    return f"SBXUSER{user_id:08d}"


def user_of_sandbox_seller(seller_id: str) -> int | None:
    if seller_id.startswith("SBXUSER") and seller_id[7:].isdigit():
        return int(seller_id[7:])
    return None


def seller_route(session: Session, settings: Settings, user_id: int) -> SpApiRoute:
    """The route for one user's sync; raises NotConnected / ReconnectRequired."""
    route = resolve_route(session, settings, user_id)
    if route.source == "env":
        user = session.get(User, user_id)
        if user is None or (user.seller_id or "").upper() != route.creds.seller_id.upper():
            raise NotConnected(
                "connect your Amazon seller account (arbitrage restrictions connect NAME ...); "
                "the deployment's SPAPI_* account syncs only for the user whose seller id it is"
            )
    if route.source != "sandbox":
        return route
    seller = sandbox_seller_id(user_id)
    lwa = route.creds.lwa
    creds = SellerCredentials(
        seller,
        LwaCredentials(lwa.client_id, lwa.client_secret, sandbox.refresh_token_for(seller)),
    )
    return SpApiRoute(creds, route.endpoint, route.lwa_url, route.in_process, route.source)


ShipmentsProvider = Callable[[str], Sequence[sandbox.Shipment]]


def embedded_app(settings: Settings, shipments: ShipmentsProvider | None = None) -> Any:
    """This process's in-process SP-API sandbox over the Keepa sandbox market (one world)."""
    from tools.keepa.factory import get_sandbox_market

    market = get_sandbox_market(settings)
    key = (id(market), shipments)
    with _lock:
        app = _apps.get(key)
        if app is None:
            config = sandbox.SandboxConfig(clock=market.clock, market=market, shipments=shipments)
            app = _apps[key] = sandbox.make_restrictions_sandbox_app(config)
        return app


def world_clock(settings: Settings) -> Any:
    """The clock of the embedded sandbox's world (the Keepa sandbox market's)."""
    from tools.keepa.factory import get_sandbox_market

    return get_sandbox_market(settings).clock

"""Where a seller's sync talks to, as whom, and the embedded sandbox it uses by default.

Credentials as for restriction checks (tools/restrictions/service.py `resolve_route`): the
user's connected account, else the deployment's SPAPI_* account, but that one only for the
user whose seller id it is (another user must never see that seller's sales), else, with no
SP-API app configured, the SP-API sandbox. In the sandbox every user is a seller of their own
(`sandbox_seller_id`), so users never share records there either. The embedded sandbox
(SPAPI_ENDPOINT unset) runs in-process on the Keepa sandbox market's clock and market; a
user's recorded purchases are the units that seller sent in, and they sell when that market
sells a copy at or above their price.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from tools.db import session_scope
from tools.models import Purchase, User, UserCredential
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


def sellers_to_sync(session: Session, settings: Settings) -> list[int]:
    """Users whose Amazon data the workers keep synced: those with a connected account (not
    those asked to reconnect), and without one: live, the user whose seller id the
    deployment's SPAPI_* account is; with no SP-API app configured (the sandbox), every
    enabled user (each a sandbox seller of their own)."""
    users = session.exec(
        select(User).where(col(User.disabled).is_(False)).order_by(col(User.id))
    ).all()
    states = dict(session.exec(select(UserCredential.user_id, UserCredential.state)).all())
    own = (settings.spapi_seller_id or "").upper()
    out = []
    for u in users:
        if u.id is None:
            continue
        state = states.get(u.id)
        if state is not None:
            keep = state == "connected"  # reconnect_required waits for the seller
        elif settings.spapi_mode == "live":
            keep = bool(own) and (u.seller_id or "").upper() == own
        else:
            keep = True
        if keep:
            out.append(u.id)
    return out


ShipmentsProvider = Callable[[str], Sequence[sandbox.Shipment]]


def purchase_sku(p: Purchase) -> str:
    """The SKU a purchase is listed under: the seller's own, else one made from it."""
    return p.sku or f"AA-{p.id}-{p.asin}"


def purchase_shipments(settings: Settings) -> ShipmentsProvider:
    """The sandbox seller's sent-in units: its user's recorded purchases, each sent to Amazon
    when bought and listed at the List at predicted then (else its minimum list price;
    a purchase with neither is not listed). Every process reads the same purchases, so every
    in-process sandbox computes the same world."""

    def shipments(seller_id: str) -> list[sandbox.Shipment]:
        user_id = user_of_sandbox_seller(seller_id)
        if user_id is None:
            return []
        with session_scope(settings) as session:
            rows = session.exec(
                select(Purchase)
                .where(col(Purchase.user_id) == user_id)
                .order_by(col(Purchase.purchased_at), col(Purchase.id))
            ).all()
        out = []
        for p in rows:
            price = p.list_at_pred or p.min_list_price
            if not price or price <= 0 or p.quantity <= 0:
                continue
            out.append(
                sandbox.Shipment(
                    sku=purchase_sku(p),
                    asin=p.asin,
                    condition=p.condition,
                    quantity=p.quantity,
                    price=round(float(price), 2),
                    sent_at=p.purchased_at.timestamp(),
                    title=p.title,
                )
            )
        return out

    return shipments


def embedded_app(settings: Settings, market: Any = None) -> Any:
    """This process's in-process SP-API sandbox over the Keepa sandbox market (one world):
    the sellers are the app's users, their sent-in units their recorded purchases. `market`:
    a SandboxMarket of one's own (a simulation's, on its SimClock), else the process's."""
    from tools.keepa.factory import get_sandbox_market

    market = market or get_sandbox_market(settings)
    key = (id(market), settings.sqlalchemy_url)
    with _lock:
        app = _apps.get(key)
        if app is None:
            config = sandbox.SandboxConfig(
                clock=market.clock, market=market, shipments=purchase_shipments(settings)
            )
            app = _apps[key] = sandbox.make_restrictions_sandbox_app(config)
        return app


def world_clock(settings: Settings) -> Any:
    """The clock of the embedded sandbox's world (the Keepa sandbox market's)."""
    from tools.keepa.factory import get_sandbox_market

    return get_sandbox_market(settings).clock

"""GET /metrics on the chat server: Prometheus text for every process of this DATA_DIR.

Why on the chat: it is the one HTTP server every installation runs, and in multiprocess mode
any of its processes can read what the workers, beat and the other chat processes counted
(tools/metrics.py), plus the shared state read from Redis and the database
(tools/metrics_state.py).

Who may read it: with METRICS_TOKEN unset, only a scraper on this machine (a loopback client
whose request carries no proxy forwarding header: through a reverse proxy on the same host
every visitor would look local); with METRICS_TOKEN set, any client that sends
`Authorization: Bearer <token>`. METRICS_ENABLED=false turns the route off. It sits outside
the chat's own guard (chat_ui/http_guard.py), which would drop the bearer token as an
unknown sign-in.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from chat_ui.session_router import ASGIApp, Receive, Scope, Send
from tools.metrics import registry
from tools.metrics_state import StateCollector
from tools.settings import Settings, get_settings

PATH = "/metrics"
FORWARDED = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
_state: dict[int, tuple[Settings, CollectorRegistry]] = {}  # per settings object


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed(scope: Scope, settings: Settings) -> tuple[int, str]:
    """(status, reason): 200 when this request may read the metrics."""
    headers = dict(scope.get("headers") or [])
    if settings.metrics_token:
        scheme, _, given = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            return 200, ""
        return 401, "send Authorization: Bearer <METRICS_TOKEN>"
    client = scope.get("client")
    if _is_loopback(client[0] if client else None) and not any(h in headers for h in FORWARDED):
        return 200, ""
    return 403, "metrics are for scrapers on this machine; set METRICS_TOKEN to scrape remotely"


def render(settings: Settings) -> bytes:
    """The exposition: per-process counters of every process, then the shared state."""
    if id(settings) not in _state:
        state = CollectorRegistry()
        state.register(StateCollector(settings))
        _state[id(settings)] = (settings, state)  # the settings kept: their id stays theirs
    return bytes(generate_latest(registry())) + bytes(generate_latest(_state[id(settings)][1]))


class MetricsRoute:
    """ASGI middleware answering GET /metrics; everything else goes to the app."""

    def __init__(self, app: ASGIApp, settings: Any = None) -> None:
        self.app = app
        self.settings: Settings = settings or get_settings()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or scope.get("path") not in (PATH, scope.get("root_path", "") + PATH)
            or not self.settings.metrics_enabled
        ):
            await self.app(scope, receive, send)
            return
        status, reason = allowed(scope, self.settings)
        if status == 200:
            body = await asyncio.to_thread(render, self.settings)
            kind = CONTENT_TYPE_LATEST.encode()
        else:
            body, kind = (reason + "\n").encode(), b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def install(app: Any) -> None:
    """Add the route once, outermost (install it after the chat's other middleware)."""
    if not any(m.cls is MetricsRoute for m in app.user_middleware):
        app.add_middleware(MetricsRoute)

"""The SP-API sandbox app: Login with Amazon's token endpoint and SP-API's endpoints (listing
restrictions, FBA inventory summaries, orders and order items, financial events; a sibling
module each, adding its routes over the same SandboxState), plus the sandbox's own control
routes.

It gives the embedded default (no SPAPI_* settings) and the tests a real server to talk to, so
the production client runs unchanged against it: in-process through httpx's ASGI transport, or
over real HTTP when served (`arbitrage sandbox serve --restrictions-port`,
`arbitrage restrictions sandbox`, the tests' uvicorn helper).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.applications import Starlette

from tools.sandbox.spapi import control, finances, inventory, lwa, orders, restrictions
from tools.sandbox.spapi.state import SandboxConfig, SandboxState


def make_restrictions_sandbox_app(config: SandboxConfig | None = None) -> Starlette:
    """A Starlette app serving SP-API's sandboxed operations and a fake LWA token endpoint.

    `app.state.sandbox` is the SandboxState (fault injection, recorded requests). The app can
    be mounted under a prefix; both endpoints are relative to it.
    """
    state = SandboxState(config or SandboxConfig())
    app = Starlette(
        routes=[
            *lwa.routes(state),
            *restrictions.routes(state),
            *inventory.routes(state),
            *orders.routes(state),
            *finances.routes(state),
            *control.routes(state),
        ]
    )
    app.state.sandbox = state
    return app


def serve_restrictions_sandbox(
    host: str = "127.0.0.1",
    port: int = 8010,
    config: SandboxConfig | None = None,
    *,
    background: bool = False,
) -> Any:
    """Serve the sandbox with uvicorn: blocking, or in a daemon thread (returns the server;
    set `server.should_exit = True` to stop it)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            make_restrictions_sandbox_app(config), host=host, port=port, log_level="warning"
        )
    )
    if not background:
        server.run()
        return server
    thread = threading.Thread(target=server.run, name="restrictions-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"restrictions sandbox could not listen on {host}:{port}")
    return server

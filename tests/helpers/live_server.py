"""Serve any ASGI app over real HTTP on 127.0.0.1 (ephemeral port) for the length of a test.

with serve_asgi(app) as base_url:
    httpx.get(base_url + "/path")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_asgi(
    app: Any, *, host: str = "127.0.0.1", startup_timeout_s: float = 10.0, **uvicorn_options: Any
) -> Iterator[str]:
    """Run `app` with uvicorn in a background thread; yields its base URL (no trailing /)."""
    config = uvicorn.Config(
        app, host=host, port=0, log_level="warning", lifespan="auto", **uvicorn_options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="serve_asgi", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

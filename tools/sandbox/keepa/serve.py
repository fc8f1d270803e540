"""`arbitrage sandbox serve`: the sandbox market over real HTTP (uvicorn)."""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from tools.clock import ScaledClock, SystemClock
from tools.sandbox.keepa.app import create_app
from tools.sandbox.keepa.market import SandboxMarket


def build_market(
    products: int,
    seed: int,
    refill_rate: int,
    speed: float,
    clock_spec: tuple[float, float, float] | None = None,
) -> SandboxMarket:
    """The market on wall time, `speed` times faster from now, or on a shared clock spec
    (SANDBOX_CLOCK: workers given the same spec agree with it on market time)."""
    if clock_spec is not None:
        clock: ScaledClock | SystemClock = ScaledClock(*clock_spec)
    else:
        clock = ScaledClock(speed) if speed != 1.0 else SystemClock()
    return SandboxMarket(n_products=products, seed=seed, refill_rate=refill_rate, clock=clock)


def serve(
    market: SandboxMarket,
    host: str = "127.0.0.1",
    port: int = 8765,
    journal: Path | None = None,
) -> None:
    """Run until interrupted.

    The process's long-lived objects (imported modules: keepa and pandas leave ~140k) are
    frozen first, so a full garbage collection only walks request garbage: otherwise each
    one costs ~0.1 s and lands on some request.
    """
    sink = journal.open("a", buffering=1) if journal else None  # one line per request
    try:
        app = create_app(market, journal=sink)
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if sink is not None:
            sink.close()


@contextmanager
def serve_in_thread(market: SandboxMarket, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve on an ephemeral port in a daemon thread; yields the base URL (tests, benches)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(market), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.02)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()

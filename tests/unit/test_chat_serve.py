"""The chat supervisor (`arbitrage up --workers N`): its sockets, and stopping while it waits."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

import pytest

from chat_ui import serve


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_on_linux_each_worker_gets_its_own_socket_on_the_port() -> None:
    port = _free_port()
    socks = serve.public_sockets("127.0.0.1", port, 3)
    try:
        assert len({id(s) for s in socks}) == 3
        assert {s.getsockname()[1] for s in socks} == {port}
    finally:
        for s in socks:
            s.close()


def test_where_the_kernel_does_not_balance_the_workers_share_one_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # macOS: SO_REUSEPORT would hand every connection to the last socket bound
    monkeypatch.setattr(serve, "_balancing_option", lambda: None)
    socks = serve.public_sockets("127.0.0.1", 0, 3)
    try:
        assert len({id(s) for s in socks}) == 1
    finally:
        socks[0].close()


def test_a_stop_signal_during_a_restart_backoff_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts: list[int] = []

    def crashing_worker(index: int, *_: object) -> list[str]:
        starts.append(index)
        return [sys.executable, "-c", "raise SystemExit(3)"]

    monkeypatch.setattr(serve, "_worker_argv", crashing_worker)
    monkeypatch.setattr(serve, "RESTART_BACKOFF_S", (5.0,) * 4)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM))
    began = time.monotonic()
    timer.start()
    try:
        code = serve.supervise("127.0.0.1", 0, 2)
    finally:
        timer.cancel()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert code == 0
    assert time.monotonic() - began < 4.0, "waited out the backoff"
    assert sorted(starts) == [0, 1], "no worker is started once stopping"

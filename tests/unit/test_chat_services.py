"""`arbitrage up`'s process supervision: which signals stop everything."""

from __future__ import annotations

import os
import signal

import pytest

from chat_ui import supervisor


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_closed_terminal_stops_the_children_like_ctrl_c() -> None:
    """The children have their own sessions: only `arbitrage up` hears the hang-up, and
    dying of it would leave the worker, beat and chat running."""
    names = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {s: signal.getsignal(s) for s in names}
    heard: list[int] = []
    try:
        supervisor.on_stop_signals(lambda sig, _frame: heard.append(sig))
        for sig in names:
            os.kill(os.getpid(), sig)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert heard == list(names)

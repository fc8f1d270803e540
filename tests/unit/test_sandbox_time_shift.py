"""Advancing the simulated world's clock: every process of a DATA_DIR reads the same time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from chat_ui.cli import app
from tools.clock import ShiftedClock, SimClock
from tools.sandbox import time_shift
from tools.settings import Settings


def test_the_cli_moves_the_world_forward_and_another_process_sees_it(settings: Settings) -> None:
    assert time_shift.shift_s(settings.data_dir) == 0.0
    r = CliRunner().invoke(app, ["sandbox", "advance", "10"])
    assert r.exit_code == 0, r.output
    assert "10.00 days ahead" in r.output
    code = (
        "from tools.sandbox import time_shift; import sys; "
        f"print(time_shift.shift_s({str(settings.data_dir)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == 10 * 86400


def test_a_shifted_clock_follows_the_shift_and_never_goes_back(settings: Settings) -> None:
    base = SimClock(1_000.0)
    clock = ShiftedClock(base, lambda: time_shift.shift_s(settings.data_dir))
    assert clock.now() == 1_000.0
    time_shift.advance(settings.data_dir, 3600)
    time.sleep(time_shift.READ_EVERY_S)
    assert clock.now() == 4_600.0
    with pytest.raises(ValueError):
        time_shift.advance(settings.data_dir, -60)
    assert time_shift.advance(settings.data_dir, 60) == 3660


def test_the_sellers_today_is_the_worlds_in_the_sandbox(settings: Settings) -> None:
    """After a jump, a purchase recorded "today" is sent in on the world's day, not weeks
    before it (it would sell on sales long gone)."""
    from datetime import timedelta

    from tests.unit.agent_helpers import add_user
    from tools.db import session_scope
    from tools.models import utcnow
    from tools.tracking.clock import seller_now
    from tools.tracking.purchases import PurchaseInput, record_purchase

    time_shift.advance(settings.data_dir, 20 * 86400)
    assert abs((seller_now() - utcnow()) - timedelta(days=20)) < timedelta(seconds=5)
    with session_scope(settings) as s:
        p = record_purchase(s, add_user(s, "sam"), PurchaseInput("0131103628", 1, 5.0))
    assert p.purchased_at > utcnow() + timedelta(days=19)

"""`arbitrage up`'s supervisor: backoff of a part that keeps dying, restart and record."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from chat_ui.supervisor import Service, Supervisor
from tools.runstate import Presence
from tools.valkey_process import describe_exit


def _supervisor(tmp_path: Path, children: list[dict[str, object]]) -> Supervisor:
    fd = os.open(tmp_path / "app.lock", os.O_RDWR | os.O_CREAT, 0o600)
    presence = Presence(tmp_path / "up-1.json", "up", fd, {})
    plan = {
        "env": dict(os.environ),
        "log_dir": str(tmp_path),
        "pass_fds": [],
        "children": children,
        "chat_url": "http://127.0.0.1:9",
        "started_mono": time.monotonic(),
    }
    return Supervisor(plan, presence)


def test_a_crash_loop_backs_off_and_a_stable_run_starts_over(tmp_path: Path) -> None:
    sup = _supervisor(tmp_path, [])
    svc = Service("worker", argv=["true"])
    delays: list[float] = []
    for ran in (2, 2, 2, 2, 2, 2, 2, 300, 2):
        now = 1000.0
        svc.started_mono, svc.restart_at = now - ran, None
        sup._exited(svc, now)
        assert svc.restart_at is not None
        delays.append(svc.restart_at - now)
    # 1, 2, 5, 10, 30 s for a loop, then 30 s; after a run of 5 minutes, 1 s again
    assert delays == [1.0, 2.0, 5.0, 10.0, 30.0, 30.0, 30.0, 1.0, 1.0]


def test_a_child_that_exits_is_started_again_and_recorded(tmp_path: Path) -> None:
    sup = _supervisor(
        tmp_path, [{"name": "beat", "argv": [sys.executable, "-c", "import sys; sys.exit(3)"]}]
    )
    (svc,) = sup.services
    sup._start(svc)
    first = svc.pid
    assert svc.proc is not None and svc.proc.wait(10) == 3
    assert sup._tick() and svc.restart_at is not None  # seen dead, start scheduled
    svc.restart_at = time.monotonic()
    assert sup._tick()
    assert svc.pid != first and svc.restarts == 1
    sup._publish()
    record = sup.presence.info["services"]["beat"]
    assert record["restarts"] == 1 and record["last_exit"] == "exit code 3"
    assert sup.presence.info["children"] == {"beat": svc.pid}
    svc.proc.wait(10)
    sup.presence.close()


def test_exit_statuses_read_like_people_say_them() -> None:
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(None) == "running"

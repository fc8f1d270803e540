"""What `restore` sees as "the app is running": the app lock, held across exec and by children
of a parent that died, and the records that say which process holds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.runstate import AppRunning, announce, exclusive, processes, run_dir
from tools.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _spawn(settings: Settings, code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_worker_keeps_the_lock_across_exec_and_frees_it_when_it_dies(settings: Settings) -> None:
    # what `arbitrage worker` does before exec'ing Celery
    worker = _spawn(
        settings,
        "import os, sys; from tools.settings import get_settings; "
        "from tools.runstate import announce; "
        "p = announce(get_settings(), 'worker'); p.keep_across_exec(); "
        "print('ready', flush=True); "
        "os.execv('/bin/sleep', ['sleep', '600'])",
    )
    try:
        with pytest.raises(AppRunning, match=rf"worker \(pid {worker.pid}\)"), exclusive(settings):
            pass
    finally:
        worker.kill()
        worker.wait()
    with exclusive(settings):  # gone with the process: no stale marker
        pass
    assert processes(settings) == []
    assert not list(run_dir(settings).glob("worker-*.json"))


def test_children_of_a_parent_that_died_are_named(settings: Settings) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    child = _spawn(
        settings,
        "import time; from tools.settings import get_settings; "
        "from tools.runstate import announce; "
        "p = announce(get_settings(), 'chat-child'); "
        "print('ready', flush=True); time.sleep(600)",
    )
    try:
        (child_record,) = run_dir(settings).glob("chat-child-*.json")
        child_record.unlink()  # only the parent's record knows about it
        (run_dir(settings) / f"up-{dead_pid}.json").write_text(
            json.dumps({"role": "up", "pid": dead_pid, "children": {"chat": child.pid}})
        )
        with (
            pytest.raises(
                AppRunning,
                match=rf"chat \(pid {child.pid}, started by up "
                rf"\(pid {dead_pid}\), which died\)",
            ),
            exclusive(settings),
        ):
            pass
    finally:
        child.kill()
        child.wait()
    assert processes(settings) == []  # the dead parent's record goes with its last child


def test_a_process_record_goes_when_it_closes(settings: Settings) -> None:
    with announce(settings, "backup", target="x.tar.gz") as me:
        (rec,) = processes(settings)
        assert rec["role"] == "backup" and rec["pid"] == os.getpid()
        me.update(progress="copying")
        assert processes(settings)[0]["progress"] == "copying"
    assert processes(settings) == []

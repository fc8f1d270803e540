"""Process supervision for `arbitrage up`: the worker, beat and the Chainlit server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.settings import Settings

CHAT_APP = Path(__file__).parent / "app.py"


def child_env(settings: Settings, redis_url: str) -> dict[str, str]:
    """Environment for child processes.

    `CI` is removed: Chainlit reads it as its --ci flag and then replaces OPENAI_API_KEY.
    REDIS_URL points every child at the one Redis this process made sure of.
    """
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["REDIS_URL"] = redis_url
    env["DATA_DIR"] = str(settings.data_dir.resolve())
    env["CHAINLIT_AUTH_SECRET"] = chainlit_auth_secret(settings)
    env["CHAINLIT_APP_ROOT"] = str(CHAT_APP.parent)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def chainlit_auth_secret(settings: Settings) -> str:
    """Derived from the app secret so sessions survive restarts without another setting."""
    return (
        os.environ.get("CHAINLIT_AUTH_SECRET")
        or hashlib.sha256(("chainlit:" + settings.resolved_secret_key()).encode()).hexdigest()
    )


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]


def start_child(
    name: str,
    args: list[str],
    settings: Settings,
    env: dict[str, str],
    pass_fds: tuple[int, ...] = (),
) -> Child:
    """Start a child in its own session; `pass_fds` it keeps open (e.g. the app lock)."""
    settings.ensure_dirs()
    out = open(settings.log_dir / f"{name}.out", "ab")  # noqa: SIM115  (owned by the child)
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=pass_fds,
    )
    return Child(name, proc)


def worker_args(concurrency: int = 4) -> list[str]:
    """One worker process, `concurrency` threads: see workers/celery_app.py for why threads."""
    return [
        *celery_worker_command(
            "scout,processor,maintenance,restrictions,spapi,backfill", concurrency, "arbitrage@%h"
        ),
        "--without-mingle",  # nothing to sync with: the only worker of this machine's app
        "--without-gossip",
    ]


def celery_worker_command(
    queues: str, concurrency: int, name: str, pool: str = "threads"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "--loglevel=INFO",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "-Q",
        queues,
        "-n",
        name,
    ]


def beat_args(settings: Settings) -> list[str]:
    schedule = settings.data_dir.resolve() / "celerybeat-schedule"
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.beat_app",
        "beat",
        "--loglevel=INFO",
        "-s",
        str(schedule),
    ]


def chainlit_args(settings: Settings, workers: int = 1) -> list[str]:
    """The chat server: chat_ui/serve.py, `chainlit run` with N worker processes."""
    return [
        sys.executable,
        "-m",
        "chat_ui.serve",
        "--host",
        settings.chainlit_host,
        "--port",
        str(settings.chainlit_port),
        "--workers",
        str(workers),
    ]


def wait_http(url: str, deadline_s: float, children: list[Child]) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for c in children:
            if c.proc.poll() is not None:
                return False
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def on_stop_signals(handler: Callable[..., None]) -> None:
    """Ctrl-C, SIGTERM and a closed terminal (SIGHUP) all call `handler`.

    The children run in their own sessions (start_new_session), so a closed terminal hangs
    up only this process: dying of it would leave them running and holding the chat port.
    """
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # no SIGHUP on Windows
            signal.signal(getattr(signal, name), handler)


def stop_children(children: list[Child], timeout: float = 15.0) -> None:
    for c in children:
        if c.proc.poll() is None:
            os.killpg(c.proc.pid, signal.SIGTERM)
    end = time.monotonic() + timeout
    for c in children:
        try:
            c.proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(c.proc.pid, signal.SIGKILL)
            c.proc.wait()

"""What `arbitrage up` starts (the worker, beat, the chat server) and the plan it hands its
supervisor (chat_ui/supervisor.py), which runs them."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.redis_embedded import display_url, state_file
from tools.settings import Settings

if TYPE_CHECKING:
    from tools.redis_embedded import EmbeddedRedis
    from tools.runstate import Presence

CHAT_APP = Path(__file__).parent / "app.py"
BACKGROUND_NICE = 5  # the worker and beat under `up`: the chat gets the CPU first


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


def supervisor_plan(
    settings: Settings,
    presence: Presence,
    *,
    env: dict[str, str],
    children: list[tuple[str, list[str], int, int | None]],
    redis: EmbeddedRedis | None,
    redis_url: str,
    admin_password: str | None,
    started_mono: float,
) -> dict[str, Any]:
    """Everything the supervisor needs, as JSON: it loads no settings of its own."""
    chat_url = f"http://{settings.chainlit_host}:{settings.chainlit_port}"
    info = {
        **presence.info,
        "chat_url": chat_url,
        "chat_port": settings.chainlit_port,
        "redis": {
            "mode": "external" if settings.redis_url else "embedded",
            "url": display_url(redis_url),
            "supervised": redis is not None,
            "port": redis.process.port if redis is not None else None,
        },
    }
    return {
        "presence": {"path": str(presence.path), "fd": presence.fd, "info": info},
        "pass_fds": [presence.fd],  # children hold the app lock too, should `up` be killed
        "env": env,
        "children": [
            {"name": n, "argv": argv, "nice": nice, "pid": pid} for n, argv, nice, pid in children
        ],
        "redis": None
        if redis is None
        else {
            "process": redis.process.spec(),
            "url": redis.url,
            "state_file": str(state_file(settings)),
        },
        "chat_url": chat_url,
        "log_dir": str(settings.log_dir.resolve()),
        "log_level": settings.log_level,
        "admin_password": admin_password,
        "started_mono": started_mono,
    }


def exec_supervisor(plan: dict[str, Any], presence: Presence) -> None:
    """Become the supervisor (same pid: the app lock and the record stay this process's).

    The plan holds secrets (the admin's first password, Chainlit's secret): it goes through
    an unnamed temporary file in DATA_DIR/run, readable through the inherited descriptor only.
    """
    handle = tempfile.TemporaryFile(dir=presence.path.parent)  # noqa: SIM115  (kept open across exec)
    handle.write(json.dumps(plan).encode())
    handle.flush()
    handle.seek(0)
    fd = handle.fileno()
    os.set_inheritable(fd, True)
    presence.keep_across_exec()
    os.execv(
        sys.executable,
        [sys.executable, "-m", "chat_ui.supervisor", "--plan-fd", str(fd)],
    )

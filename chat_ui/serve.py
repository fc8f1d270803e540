"""Serve the chat: Chainlit's ASGI app under uvicorn, in one process or in N worker processes.

One process (the default) does what `chainlit run chat_ui/app.py --headless` does (same
Chainlit settings and environment variables, same uvicorn options). The chat's CPU
per turn (Chainlit's socket emits and history writes plus the agent graph) saturates one core
at a few dozen busy sessions, so `--workers N` (`arbitrage up --workers N`) runs N copies of
the whole app on the same port:

- on Linux the supervisor binds N listening sockets to the port with SO_REUSEPORT, one per
  worker, so the kernel spreads new connections evenly (one shared socket lets whichever
  worker wakes first take most of them) and keeps them; a worker that dies is restarted on
  its socket. FreeBSD balances with SO_REUSEPORT_LB; on macOS and other BSDs SO_REUSEPORT
  hands every connection to the last socket bound, so there all workers share one socket;
- the browser is told to use the websocket transport only: socket.io's long-polling would send
  one session's requests to any worker. A chat session lives in the worker its websocket
  reached; the few HTTP requests that name a session (uploads, element files) are forwarded to
  that worker (chat_ui/session_router.py) over each worker's private 127.0.0.1 port;
- everything else is shared through the database: history (Chainlit's data layer), LangGraph
  checkpoints and users, on SQLite in WAL mode with busy timeouts, or on PostgreSQL.

    python -m chat_ui.serve [--host H] [--port N] [--workers N]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parent / "app.py"
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0)
STOP_TIMEOUT_S = 15.0
log = logging.getLogger("chat_ui.serve")


def build_app(siblings: list[str] | None = None) -> Any:
    """Chainlit's ASGI app with chat_ui/app.py loaded, as `chainlit run` prepares it.

    With siblings (the other workers' private base URLs) the browser gets websocket-only
    transport and session-bound HTTP requests are routed to the worker holding the session.
    """
    os.environ.setdefault("CHAINLIT_APP_ROOT", str(APP.parent))  # before chainlit.config loads
    from chainlit.auth import ensure_jwt_secret
    from chainlit.cache import init_lc_cache
    from chainlit.config import config, load_module
    from chainlit.markdown import init_markdown

    config.run.headless = True
    config.run.root_path = os.environ.get("CHAINLIT_ROOT_PATH", "")  # read by chainlit.server
    from chainlit.server import app

    config.run.module_name = str(APP)
    load_module(str(APP))
    ensure_jwt_secret()
    init_markdown(config.root)
    init_lc_cache()
    if siblings is None:
        return app
    from chat_ui.session_router import SessionRouter

    config.project.transports = ["websocket"]
    return SessionRouter(app, siblings)


def _uvicorn_config(app: Any, host: str, port: int) -> Any:
    """uvicorn settings as `chainlit run` makes them (same env overrides)."""
    import uvicorn

    deflate = os.environ.get("UVICORN_WS_PER_MESSAGE_DEFLATE", "true").lower() in (
        "true",
        "1",
        "yes",
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="error",
        ws=os.environ.get("UVICORN_WS_PROTOCOL", "auto"),
        ws_per_message_deflate=deflate,
        ssl_certfile=os.environ.get("CHAINLIT_SSL_CERT"),
        ssl_keyfile=os.environ.get("CHAINLIT_SSL_KEY"),
    )


def _serve(app: Any, host: str, port: int, sockets: list[socket.socket] | None = None) -> None:
    # Like `chainlit run`: nest_asyncio, then the plain asyncio loop (Chainlit's session
    # config for a chat profile runs a coroutine to completion inside the running loop).
    import asyncio

    import nest_asyncio
    import uvicorn
    from chainlit.config import config

    nest_asyncio.apply()
    config.run.host, config.run.port = host, port
    server = uvicorn.Server(_uvicorn_config(app, host, port))
    asyncio.run(server.serve(sockets=sockets))


# ---- N workers ------------------------------------------------------------------------------


def _listener(host: str, port: int, reuse_port: int | None = None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port is not None:
        sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker_argv(
    index: int,
    public: socket.socket,
    private: socket.socket,
    siblings: list[str],
    host: str,
    port: int,
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "chat_ui.serve",
        "--host",
        host,
        "--port",
        str(port),
        "--worker-index",
        str(index),
        "--listen-fd",
        str(public.fileno()),
        "--private-fd",
        str(private.fileno()),
        "--siblings",
        ",".join(siblings),
    ]


def _balancing_option() -> int | None:
    """The socket option whose listeners on one port share its connections evenly, if any."""
    if sys.platform.startswith("linux"):
        return socket.SO_REUSEPORT
    return getattr(socket, "SO_REUSEPORT_LB", None)  # FreeBSD; macOS has none


def public_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """The port's listening socket for each worker: one each where the kernel balances
    them, else one shared by all (still better than SO_REUSEPORT's last-bound-takes-all)."""
    option = _balancing_option()
    if option is None:
        shared = _listener(host, port)
        return [shared] * workers
    # A plain bind first: SO_REUSEPORT alone would silently share the port with another
    # instance of the app run by the same user instead of failing.
    _listener(host, port).close()
    return [_listener(host, port, reuse_port=option) for _ in range(workers)]


def supervise(host: str, port: int, workers: int) -> int:
    """Bind, start `workers` worker processes, restart any that dies, stop them on a signal."""
    if os.name != "posix":  # fds handed to the workers (pass_fds)
        raise SystemExit("--workers > 1 needs Linux, macOS or BSD")
    try:
        publics = public_sockets(host, port, workers)
    except OSError as e:
        raise SystemExit(f"cannot listen on {host}:{port}: {e}") from None
    privates = [_listener("127.0.0.1", 0) for _ in range(workers)]
    scheme = "https" if os.environ.get("CHAINLIT_SSL_CERT") else "http"
    urls = [f"{scheme}://127.0.0.1:{s.getsockname()[1]}" for s in privates]

    def start(i: int) -> subprocess.Popen[bytes]:
        argv = _worker_argv(i, publics[i], privates[i], urls[:i] + urls[i + 1 :], host, port)
        return subprocess.Popen(argv, pass_fds=(publics[i].fileno(), privates[i].fileno()))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    def pause(seconds: float) -> None:  # a stop signal ends it early
        end = time.monotonic() + seconds
        while not stopping and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    procs = [start(i) for i in range(workers)]
    restarts = [0] * workers
    started_at = [time.monotonic()] * workers
    for i, p in enumerate(procs):
        log.info("chat worker %d: pid %d, private address %s", i, p.pid, urls[i])
    try:
        while not stopping:
            time.sleep(0.5)
            for i, p in enumerate(procs):
                if stopping or p.poll() is None:
                    continue
                if time.monotonic() - started_at[i] > 60:
                    restarts[i] = 0  # it ran for a while: a fresh failure, not a crash loop
                if restarts[i] >= len(RESTART_BACKOFF_S):
                    log.error("chat worker %d keeps exiting (%s); stopping", i, p.returncode)
                    return 1
                log.warning("chat worker %d exited (%s); restarting", i, p.returncode)
                pause(RESTART_BACKOFF_S[restarts[i]])
                if stopping:
                    break
                restarts[i] += 1
                procs[i], started_at[i] = start(i), time.monotonic()
                log.info("chat worker %d: pid %d, private address %s", i, procs[i].pid, urls[i])
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        end = time.monotonic() + STOP_TIMEOUT_S  # one deadline for all, not one each
        for p in procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def use_data_files_dir(data_dir: Path) -> Path:
    """Keep Chainlit's session files under DATA_DIR/session_files, not in the code folder.

    Chainlit puts them in `<app root>/.files` (chat_ui/.files here) and deletes that whole
    directory when the server stops: every instance run from one checkout shared it, so
    stopping one instance deleted the others' uploads, and their next upload failed (the
    directory is not re-created). Each instance has its own DATA_DIR, so its own directory.
    """
    import chainlit.config
    import chainlit.server

    own = (data_dir / "session_files").resolve()
    own.mkdir(parents=True, exist_ok=True)
    in_code = chainlit.config.FILES_DIRECTORY
    chainlit.config.FILES_DIRECTORY = own  # read by each session (chainlit/session.py)
    chainlit.server.FILES_DIRECTORY = own  # removed at shutdown (chainlit/server.py)
    if in_code != own:
        with contextlib.suppress(OSError):  # the empty one chainlit.config made on import
            in_code.rmdir()
    return own


def use_own_files_dir(index: int) -> Path:
    """Keep this worker's session uploads under `session_files/worker-<index>`.

    Chainlit deletes its whole files directory when a process stops, and a session's folder
    when that session expires (an hour after a disconnect). With one directory for all
    workers, a restarted worker took the others' live uploads with it, and a session that
    reconnected to another worker lost its new uploads when the old copy expired.
    """
    import chainlit.config
    import chainlit.server

    own = chainlit.config.FILES_DIRECTORY / f"worker-{index}"
    own.mkdir(parents=True, exist_ok=True)
    chainlit.config.FILES_DIRECTORY = own  # read by each session (chainlit/session.py)
    chainlit.server.FILES_DIRECTORY = own  # removed at shutdown (chainlit/server.py)
    return own


def run_worker(
    host: str, port: int, listen_fd: int, private_fd: int, siblings: list[str], index: int = 0
) -> None:
    """One worker: the app on its share of the public port and on its private port."""
    sockets = [socket.socket(fileno=listen_fd), socket.socket(fileno=private_fd)]
    app = build_app(siblings)
    use_own_files_dir(index)
    parent = os.getppid()

    def orphaned() -> bool:  # the supervisor was killed: do not keep the port
        return os.getppid() != parent

    _watch_parent(orphaned)
    _serve(app, host, port, sockets)


def _watch_parent(orphaned: Callable[[], bool]) -> None:
    """SIGTERM this worker once orphaned: a killed supervisor runs no `finally`."""
    import threading

    def watch() -> None:
        while not orphaned():
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    from tools.private_files import private_umask

    private_umask()  # session files, history and logs: the owner's alone
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default=os.environ.get("CHAINLIT_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("CHAINLIT_PORT", "8000")))
    ap.add_argument("--workers", type=int, default=1, help="chat worker processes")
    # internal: how the supervisor starts a worker
    ap.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--private-fd", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--siblings", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from tools.metrics import enable_multiprocess
    from tools.settings import get_settings

    enable_multiprocess(get_settings())  # every chat process counts into DATA_DIR/metrics
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
    )
    if args.listen_fd is not None:
        run_worker(
            args.host,
            args.port,
            args.listen_fd,
            args.private_fd,
            [s for s in args.siblings.split(",") if s],
            args.worker_index or 0,
        )
    elif args.workers > 1:
        # migrate once here, not racing in every worker's startup hook
        from tools.db import migrate

        migrate()
        raise SystemExit(supervise(args.host, args.port, args.workers))
    else:
        _serve(build_app(), args.host, args.port)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

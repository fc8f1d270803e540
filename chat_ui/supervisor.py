"""`arbitrage up`'s supervisor: keeps the worker, beat, the chat server and the embedded Redis
running, and stops them all on Ctrl-C, SIGTERM or a closed terminal.

`up` prepares (settings, migrations, the first admin, the embedded Redis), then execs this
program with a plan: the same pid keeps the app lock and its record, without the ~80 MB that
preparing loaded (pydantic, SQLAlchemy, Alembic, the knowledge seed), which would otherwise
stay for the app's whole life. Standard library only, for the same reason.

- A child that exits is started again after a backoff (1, 2, 5, 10, 30 s; from 1 s again once
  it ran a minute), said so on the terminal, in DATA_DIR/logs/up.log and in the record
  `arbitrage status` reads (DATA_DIR/run/up-<pid>.json: ports, pids, restarts, last exit).
- The embedded Redis is started again on the same port with the same password: every
  process's connection comes back by itself.
- The chat is a child like the others: a pipeline part that stops or crashes never takes it
  down. Only at start-up does a child that dies end `up` (a port in use, a broken install).
  The worker and beat run at a lower CPU priority (nice +5): on a busy machine the chat, the
  part people wait for, gets the processor first; the pipeline's work is minutes-scale.
- A stop signal stops the children together (the worker puts its unfinished tasks back in
  their queues: workers/celery_app.py), then Redis, all within 15 s: what still runs 11 s
  after the signal is killed.

    python -m chat_ui.supervisor --plan-fd N    (only `arbitrage up` runs this)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.logs import log_to_file
from tools.runstate import Presence
from tools.valkey_process import ValkeyProcess, ValkeyStartError, describe_exit

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_S = 60.0  # a child that ran this long starts again after the shortest backoff
CHILD_STOP_S = 11.0  # SIGTERM to SIGKILL for the children; Redis has the rest of the 15 s
REDIS_STOP_S = 3.0
READY_TIMEOUT_S = 120.0
TICK_S = 0.25
log = logging.getLogger("chat_ui.supervisor")


def on_stop_signals(handler: Callable[..., None]) -> None:
    """Ctrl-C, SIGTERM and a closed terminal (SIGHUP) all call `handler`.

    The children run in their own sessions (start_new_session), so a closed terminal hangs
    up only this process: dying of it would leave them running and holding the chat port.
    """
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # no SIGHUP on Windows
            signal.signal(getattr(signal, name), handler)


def spawn(
    name: str, argv: list[str], log_dir: Path, env: dict[str, str], pass_fds: tuple[int, ...]
) -> subprocess.Popen[bytes]:
    """Start one part in its own session (stopped by process group: Celery's and the chat's
    children too), its output appended to DATA_DIR/logs/<name>.out; `pass_fds` keeps the app
    lock open in it (`restore` sees it as running)."""
    with open(log_dir / f"{name}.out", "ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )


class AdoptedProcess:
    """A child `up` started before it exec'd this program (the chat, so that it loads while
    `up` migrates): no Popen object survives an exec, the kernel's parent link does."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone, status unknown
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode


@dataclass
class Service:
    """One supervised part: a child process (argv) or the embedded Redis (valkey)."""

    name: str
    argv: list[str] | None = None
    nice: int = 0  # added to the supervisor's own niceness
    valkey: ValkeyProcess | None = None
    proc: subprocess.Popen[bytes] | AdoptedProcess | None = None
    restarts: int = 0
    failures: int = 0  # exits in a row without a stable run: picks the backoff
    started_wall: float = 0.0
    started_mono: float = 0.0
    last_exit: str | None = None
    last_exit_at: float | None = None
    restart_at: float | None = None  # monotonic; set while waiting to start again
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        if self.valkey is not None:
            return self.valkey.pid if self.restart_at is None else None
        return self.proc.pid if self.proc is not None and self.restart_at is None else None

    def alive(self) -> bool:
        if self.valkey is not None:
            return self.valkey.alive()
        return self.proc is not None and self.proc.poll() is None

    def exit_status(self) -> int | None:
        if self.valkey is not None:
            return self.valkey.exit_status
        return self.proc.returncode if self.proc is not None else None

    def record(self, now_mono: float) -> dict[str, Any]:
        wait = None if self.restart_at is None else round(max(0.0, self.restart_at - now_mono), 1)
        return {
            "pid": self.pid,
            "state": "running" if wait is None else "restarting",
            "restart_in_s": wait,
            "started_at": self.started_wall,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "recent_exits": self.history[-5:],
        }


class Supervisor:
    def __init__(self, plan: dict[str, Any], presence: Presence) -> None:
        self.plan = plan
        self.presence = presence
        self.env: dict[str, str] = plan["env"]
        self.log_dir = Path(plan["log_dir"])
        self.pass_fds = tuple(plan["pass_fds"])
        self.services: list[Service] = []
        if plan.get("redis"):
            self.services.append(
                Service("redis", valkey=ValkeyProcess.adopt(plan["redis"]["process"]))
            )
        for child in plan["children"]:
            svc = Service(child["name"], argv=child["argv"], nice=int(child.get("nice", 0)))
            if child.get("pid"):  # started by `up` before the exec
                svc.proc = AdoptedProcess(int(child["pid"]))
            self.services.append(svc)
        self.stopping = False
        self.ready = False

    # ---- children -----------------------------------------------------------------------

    def _start(self, svc: Service) -> None:
        svc.restart_at = None
        svc.started_wall, svc.started_mono = time.time(), time.monotonic()
        if svc.valkey is not None:
            svc.valkey.start(timeout=15)
            return
        assert svc.argv is not None
        svc.proc = spawn(svc.name, svc.argv, self.log_dir, self.env, self.pass_fds)
        if svc.nice:  # before it starts its threads, which inherit it
            with contextlib.suppress(OSError):
                mine = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, svc.proc.pid, min(19, mine + svc.nice))

    def _exited(self, svc: Service, now: float) -> None:
        """A part died: say so and schedule its start after the backoff."""
        status = describe_exit(svc.exit_status())
        ran = now - svc.started_mono
        svc.failures = 0 if ran >= STABLE_S else svc.failures + 1
        delay = BACKOFF_S[min(max(svc.failures - 1, 0), len(BACKOFF_S) - 1)]
        svc.last_exit, svc.last_exit_at = status, time.time()
        svc.history.append({"at": svc.last_exit_at, "exit": status, "ran_s": round(ran, 1)})
        svc.restart_at = now + delay
        self._say(
            logging.WARNING,
            f"{svc.name} {_pid(svc)}stopped ({status}) after {ran:.0f}s; "
            f"starting it again in {delay:.0f}s",
        )

    def _restart(self, svc: Service, now: float) -> None:
        try:
            self._start(svc)
        except (OSError, ValkeyStartError) as err:
            svc.failures += 1
            delay = BACKOFF_S[min(svc.failures - 1, len(BACKOFF_S) - 1)]
            svc.restart_at = now + delay
            self._say(logging.ERROR, f"{svc.name} did not start ({err}); again in {delay:.0f}s")
            return
        svc.restarts += 1
        self._say(
            logging.WARNING, f"{svc.name} started again (pid {svc.pid}, restart {svc.restarts})"
        )

    def _say(self, level: int, message: str) -> None:
        log.log(level, message)
        _print(message)

    # ---- the record ---------------------------------------------------------------------

    def _publish(self) -> None:
        now = time.monotonic()
        self.presence.update(
            ready=self.ready,
            children={s.name: s.pid for s in self.services if s.argv is not None and s.pid},
            services={s.name: s.record(now) for s in self.services},
        )

    # ---- the loop -----------------------------------------------------------------------

    def _tick(self) -> bool:
        """Check every part once; True when something changed."""
        changed = False
        now = time.monotonic()
        for svc in self.services:
            if svc.restart_at is None and not svc.alive():
                self._exited(svc, now)
                changed = True
            elif svc.restart_at is not None and now >= svc.restart_at:
                self._restart(svc, now)
                changed = True
        return changed

    def _chat_answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.plan["chat_url"] + "/health", timeout=1) as resp:
                return bool(resp.status < 500)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def run(self) -> int:
        def stop(*_: object) -> None:
            self.stopping = True

        on_stop_signals(stop)
        try:
            for svc in self.services:
                if svc.valkey is None and svc.proc is None:
                    self._start(svc)
                else:  # started by `up` before the exec
                    svc.started_wall, svc.started_mono = time.time(), time.monotonic()
            self._publish()
            if not self._wait_ready():
                return 0 if self.stopping else 1
            self.ready = True
            self._publish()
            self._announce()
            last_publish = time.monotonic()
            while not self.stopping:
                if self._tick() or time.monotonic() - last_publish > 5:
                    self._publish()  # also refreshes "restart in N s"
                    last_publish = time.monotonic()
                time.sleep(TICK_S)
            return 0
        finally:
            self._stop_all()

    def _wait_ready(self) -> bool:
        end = time.monotonic() + READY_TIMEOUT_S
        while not self.stopping and time.monotonic() < end:
            dead = [s for s in self.services if not s.alive()]
            if dead:
                what = ", ".join(f"{s.name} {describe_exit(s.exit_status())}" for s in dead)
                self._say(logging.ERROR, f"start-up failed ({what}); see {self.log_dir}")
                return False
            if self._chat_answers():
                return True
            time.sleep(TICK_S)
        if not self.stopping:
            self._say(logging.ERROR, f"start-up failed (chat timeout); see {self.log_dir}")
        return False

    def _announce(self) -> None:
        took = time.monotonic() - float(self.plan["started_mono"])
        _print(f"Agent Arbitrage is up in {took:.1f}s: {self.plan['chat_url']}")
        log.info("up in %.1fs: %s", took, self.plan["chat_url"])
        password = self.plan.get("admin_password")
        if password:
            _print(
                f"First admin created: user admin, password {password} (shown once; change "
                "it with `arbitrage users passwd admin`)"
            )
        _print(f"Logs: {self.log_dir} (main log up.log). Ctrl-C stops everything.")

    def _stop_all(self) -> None:
        """Children first, together (the worker needs Redis to requeue), then Redis."""
        asked = time.monotonic()
        children = [s for s in self.services if s.argv is not None and s.proc is not None]
        for svc in children:
            if svc.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(svc.proc.pid, signal.SIGTERM)  # type: ignore[union-attr]
        end = asked + CHILD_STOP_S
        running = {s.name for s in children if s.alive()}
        while time.monotonic() < end and running:
            for svc in children:
                if svc.name in running and not svc.alive():
                    running.discard(svc.name)
                    log.info("%s stopped in %.1fs", svc.name, time.monotonic() - asked)
            time.sleep(0.05)
        for svc in children:
            if svc.alive():
                self._say(logging.WARNING, f"{svc.name} did not stop in time: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(svc.proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
                svc.proc.wait()  # type: ignore[union-attr]
        for svc in self.services:
            if svc.valkey is not None:
                svc.valkey.stop(timeout=REDIS_STOP_S)
                _forget_redis_state(self.plan["redis"])
        took = time.monotonic() - asked
        log.info("stopped in %.1fs", took)
        _print(f"stopped in {took:.1f}s")
        self.presence.close()


def _print(message: str) -> None:
    """To the terminal `up` was started from; gone (a closed pipe) is not a reason to stop."""
    with contextlib.suppress(OSError):
        print(message, flush=True)


def _pid(svc: Service) -> str:
    pid = svc.valkey.pid if svc.valkey is not None else (svc.proc.pid if svc.proc else None)
    return f"(pid {pid}) " if pid else ""


def _forget_redis_state(redis: dict[str, Any]) -> None:
    """Remove DATA_DIR/redis/server.json when it still names the server just stopped."""
    path = Path(redis["state_file"])
    try:
        if json.loads(path.read_text()).get("url") == redis["url"]:
            path.unlink()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="arbitrage up's supervisor (run by `up`)")
    parser.add_argument("--plan-fd", type=int, required=True)
    args = parser.parse_args(argv)
    with os.fdopen(args.plan_fd, "rb") as fh:
        plan = json.loads(fh.read())
    log_to_file(Path(plan["log_dir"]) / "up.log", plan.get("log_level", "INFO"))
    presence = Presence.resume(
        Path(plan["presence"]["path"]), plan["presence"]["fd"], plan["presence"]["info"]
    )
    return Supervisor(plan, presence).run()


if __name__ == "__main__":
    sys.exit(main())

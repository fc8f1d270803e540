"""Item 9: the app's files are its user's alone, and the embedded Valkey wants a password.

Before: DATA_DIR, the databases and the logs were world-readable (0755 / 0644), secret.key
was written and then chmod-ed, and the embedded Valkey took any local client, CONFIG included.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis

from tools.logs import setup_logging
from tools.redis_embedded import ensure_redis
from tools.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cli(data: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "SECRET_KEY")}
    env["DATA_DIR"] = str(data)
    proc = subprocess.run(
        [sys.executable, "-m", "chat_ui.cli", *args],
        env=env,
        input="a-password-123\n",
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )  # a usual shell
    assert proc.returncode == 0, proc.stderr


@pytest.mark.no_template_db
def test_a_fresh_install_is_private_under_a_permissive_umask(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    _cli(data, "users", "add", "someone")
    assert _mode(data) == 0o700
    assert _mode(data / "logs") == 0o700
    created = [p for p in data.iterdir() if p.is_file()]
    assert any(p.name == "arbitrage.db" for p in created)
    for path in created:
        assert _mode(path) == 0o600, path


@pytest.mark.no_template_db
def test_an_older_install_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    (data / "logs").mkdir(parents=True)
    (data / "session_files" / "abc").mkdir(parents=True)
    for name in ("secret.key", "logs/up.log", "logs/chat.out", "session_files/abc/f.pdf"):
        (data / name).write_text("x")
        (data / name).chmod(0o644)
    for d in (data, data / "logs", data / "session_files", data / "session_files" / "abc"):
        d.chmod(0o755)
    _cli(data, "users", "list")
    for d in (data, data / "logs", data / "session_files", data / "session_files" / "abc"):
        assert _mode(d) == 0o700, d
    for name in (
        "secret.key",
        "logs/up.log",
        "logs/chat.out",
        "session_files/abc/f.pdf",
        "arbitrage.db",
    ):
        assert _mode(data / name) == 0o600, name


@pytest.mark.no_template_db
def test_the_secret_key_is_born_private_and_only_once(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        settings = Settings(data_dir=tmp_path / "keys")
        keys: list[str] = []
        threads = [
            threading.Thread(target=lambda: keys.append(settings.resolved_secret_key()))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.umask(old)
    assert len(set(keys)) == 1 and len(keys[0]) >= 32
    assert _mode(tmp_path / "keys" / "secret.key") == 0o600
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.startswith(".secret.key")]


def test_log_files_are_private(settings: Settings) -> None:
    from tools.private_files import private_umask

    old = os.umask(0o022)
    try:
        private_umask()  # what every entry point does first
        path = setup_logging("security-test", settings)
    finally:
        os.umask(old)
    assert _mode(path) == 0o600 and _mode(settings.log_dir) == 0o700


@pytest.mark.integration
def test_embedded_valkey_requires_the_password_and_has_no_config(settings: Settings) -> None:
    url, owner = ensure_redis(settings)
    assert owner is not None
    try:
        app = redis.Redis.from_url(url)
        app.set("k", "v")
        assert app.get("k") == b"v"
        with pytest.raises(redis.ResponseError, match="unknown command"):
            app.config_get("dir")  # no CONFIG SET dir/dbfilename, not even for the app
        host_port = url.rsplit("@", 1)[1]
        anonymous = redis.Redis.from_url(f"redis://{host_port}")
        assert anonymous.ping()  # the readiness check only
        with pytest.raises(redis.exceptions.NoPermissionError):
            anonymous.get("k")
        with pytest.raises(redis.exceptions.NoPermissionError):
            anonymous.set("k", "other")
        wrong = redis.Redis.from_url(f"redis://arbitrage:not-the-password@{host_port}")
        with pytest.raises(redis.AuthenticationError):
            wrong.get("k")
        folder = settings.data_dir / "redis"
        assert _mode(folder / "server.json") == 0o600
        assert _mode(folder / "users.acl") == 0o600
        assert owner.password not in (folder / "valkey.log").read_text()
    finally:
        owner.stop()

"""Item 10: settings cannot switch protections off, and bad input is one clear line.

Before: SPAPI_RATE_PER_S=inf switched throttling off, SCOUT_INTERVAL_S=1e-9 was accepted, a
non-UTF-8 .env printed a traceback, any SECRET_KEY length was taken, and secrets given as
flags went into the shell history without a word.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("SPAPI_RATE_PER_S", "inf"),
        ("SPAPI_RATE_PER_S", "nan"),
        ("SPAPI_RATE_PER_S", "1e9"),
        ("SCOUT_INTERVAL_S", "1e-9"),
        ("SCOUT_INTERVAL_S", "1e12"),
        ("PROCESSOR_INTERVAL_S", "0.000001"),
        ("KEEPA_WAIT_DEADLINE_S", "inf"),
        ("SANDBOX_SPEED", "1e300"),
        ("SESSION_LIFETIME_HOURS", "100000"),
        ("SECRET_KEY", "too-short"),
        ("ALLOWED_ORIGINS", "*"),
        ("ALLOWED_ORIGINS", "https://arb.example.com/chat"),
    ],
)
def test_out_of_bounds_values_are_refused_in_one_line(monkeypatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert env in str(err.value) and "\n" not in str(err.value)


def test_sensible_values_still_load(monkeypatch) -> None:
    monkeypatch.setenv("SPAPI_RATE_PER_S", "0.5")
    monkeypatch.setenv("SCOUT_INTERVAL_S", "60")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://arb.example.com/, http://10.0.0.5:8000")
    s = load_settings()
    assert s.spapi_rate_per_s == 0.5 and s.scout_interval_s == 60
    assert s.origins() == ["https://arb.example.com", "http://10.0.0.5:8000"]


def _cli(args: list[str], cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "chat_ui.cli", *args],
        cwd=cwd,
        env={**base, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_non_utf8_env_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"KEEPA_DOMAIN=US\nNOTE=caf\xe9\n")
    proc = _cli(["status"], tmp_path, DATA_DIR=str(tmp_path / "data"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert ".env" in proc.stderr and "UTF-8" in proc.stderr


def test_secrets_given_as_flags_warn_about_shell_history(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    flagged = _cli(
        ["users", "add", "flag-user", "--password", "secret-password-1"], tmp_path, DATA_DIR=data
    )
    assert flagged.returncode == 0, flagged.stderr
    assert "shell history" in flagged.stderr and "--password" in flagged.stderr
    piped = _cli(
        ["users", "add", "piped-user"], tmp_path, stdin="secret-password-2\n", DATA_DIR=data
    )
    assert piped.returncode == 0, piped.stderr
    assert "shell history" not in piped.stderr
    connect = _cli(
        [
            "restrictions",
            "connect",
            "piped-user",
            "--seller-id",
            "A1SELLER",
            "--refresh-token",
            "Atzr|secret",
            "--client-id",
            "amzn1.app",
            "--client-secret",
            "shh",
        ],
        tmp_path,
        DATA_DIR=data,
    )
    assert "--refresh-token, --client-secret" in " ".join(connect.stderr.split())

"""Settings: embedded defaults with no configuration, one clear line for a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.settings import SettingsError, load_settings


def test_no_configuration_selects_every_embedded_default(settings) -> None:
    assert settings.keepa_mode == "sandbox"
    assert settings.llm_mode == "offline"
    assert settings.spapi_mode == "sandbox"
    assert settings.redis_mode == "embedded"
    assert settings.is_sqlite
    assert settings.sqlalchemy_url.endswith("/data/arbitrage.db")


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("KEEPA_DOMAIN", "XX", "KEEPA_DOMAIN"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REDIS_URL", "http://localhost", "REDIS_URL"),
        ("KEEPA_TOKEN_FLOOR", "-3", "KEEPA_TOKEN_FLOOR"),
        ("CHAINLIT_PORT", "not-a-port", "CHAINLIT_PORT"),
        ("LLM_BASE_URL", "ftp://model", "LLM_BASE_URL"),
    ],
)
def test_invalid_value_is_one_line_naming_the_setting(monkeypatch, env, value, named) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert "\n" not in message
    assert named in message


def test_resume_mark_must_be_above_floor(monkeypatch) -> None:
    monkeypatch.setenv("KEEPA_TOKEN_FLOOR", "60")
    monkeypatch.setenv("KEEPA_TOKEN_RESUME", "55")
    with pytest.raises(SettingsError, match="KEEPA_TOKEN_RESUME"):
        load_settings()


def test_openai_and_xai_keys_select_the_llm(monkeypatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-123")
    assert load_settings().llm_api_key == "xai-123"
    monkeypatch.setenv("LLM_API_KEY", "k-1")
    assert load_settings().llm_api_key == "k-1"


def test_plain_postgresql_url_uses_psycopg(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().sqlalchemy_url == "postgresql+psycopg://u@h/db"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("KEEPA_DOMAIN=de\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().keepa_domain_id == 3


def test_secret_key_generated_once_and_kept(settings) -> None:
    first = settings.resolved_secret_key()
    assert len(first) >= 40
    assert settings.resolved_secret_key() == first
    assert (settings.data_dir / "secret.key").stat().st_mode & 0o077 == 0


def test_cli_stops_with_the_one_line(monkeypatch) -> None:
    env = {"PATH": "/usr/bin:/bin", "KEEPA_DOMAIN": "XX", "HOME": "/tmp"}
    proc = subprocess.run(
        [sys.executable, "-m", "chat_ui.cli", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Invalid setting KEEPA_DOMAIN" in proc.stderr
    assert "Traceback" not in proc.stderr

"""Each persona (and each system author) has its own avatar, served by Chainlit by author name."""

from __future__ import annotations

import tomllib
from pathlib import Path

from chat_ui.profiles import PEOPLE

PUBLIC = Path(__file__).resolve().parents[2] / "chat_ui" / "public" / "avatars"
SYSTEM_AUTHORS = ("Review", "Settings", "Purchases", "Buy list", "Alerts", "Sign-in")


def _file(author: str) -> Path:
    # Chainlit's /avatars/{author}: lower case, spaces and dots as underscores, any extension
    stem = author.strip().lower().replace(" ", "_").replace(".", "_")
    found = sorted(PUBLIC.glob(f"{stem}.*"))
    assert found, f"no avatar for {author!r} in {PUBLIC}"
    return found[0]


def test_every_persona_and_system_author_has_a_distinct_avatar() -> None:
    authors = [p.name for p in PEOPLE] + list(SYSTEM_AUTHORS)
    contents = {a: _file(a).read_text() for a in authors}
    personas = [contents[p.name] for p in PEOPLE]
    assert len(set(personas)) == len(personas), "two personas share an avatar"
    assert all(c not in personas for a, c in contents.items() if a in SYSTEM_AUTHORS)


def test_no_single_default_avatar_overrides_the_authors() -> None:
    config = tomllib.loads((PUBLIC.parents[1] / ".chainlit" / "config.toml").read_text())
    assert not config["UI"].get("default_avatar_file_url")

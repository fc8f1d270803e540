"""E2E fixtures: one real chat server (as `arbitrage up` runs it) per session on a seeded
database, and Chromium.

The server gets its own DATA_DIR (a few hundred deals, an admin and a seller), CI removed from
its environment and its own CHAINLIT_AUTH_SECRET. Chromium comes from Debian's packages: the
test setup installs it with apt-get when /usr/bin/chromium is missing and skips with the reason
when that is not possible (no root, no package mirror).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import ChatServer
from tests.e2e.seed import USERS, seed_all
from tools.db import dispose_engines
from tools.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    data = tmp_path_factory.mktemp("chat-e2e")
    seed_all(Settings(data_dir=data))
    dispose_engines()
    server = ChatServer(data_dir=data).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server_settings(chat_server: ChatServer) -> Settings:
    """Settings that point at the server's database (for checking what it stored)."""
    return Settings(data_dir=chat_server.data_dir)


@pytest.fixture(scope="session")
def credentials() -> dict[str, str]:
    return {name: pw for name, (pw, _role) in USERS.items()}


def _apt_install_chromium() -> str | None:
    """Install Debian's chromium; returns None on success, else why it failed."""
    if os.geteuid() != 0:
        return "chromium is not installed and apt-get needs root"
    if not shutil.which("apt-get"):
        return "chromium is not installed and this is not a Debian/Ubuntu system"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        try:
            proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return f"{' '.join(args)} timed out"
        if proc.returncode != 0:
            return f"{' '.join(args)} failed: {proc.stderr.strip()[-300:]}"
    if not CHROMIUM.exists():
        return "apt-get installed chromium but /usr/bin/chromium is missing"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = _apt_install_chromium()
        if reason:
            pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """test-output/<test name>/ in the repo: screenshots a person can look at after a run."""
    path = REPO / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path

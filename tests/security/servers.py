"""Real chat servers for the security tests, each on its own small seeded DATA_DIR."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import ChatServer, login
from tests.e2e.seed import USERS, seed_all
from tools.db import dispose_engines
from tools.settings import Settings


def seeded_server(data: Path, n_deals: int = 20) -> ChatServer:
    """A started server (as `arbitrage up` runs it) with the e2e users and a few deals."""
    data.mkdir(parents=True, exist_ok=True)
    seed_all(Settings(data_dir=data), n_deals=n_deals)
    dispose_engines()
    return ChatServer(data_dir=data).start()


def cookie(server: ChatServer, user: str) -> str:
    """The auth cookie of `user` (one of the e2e users) on `server`."""
    return login(server.url, user, USERS[user][0])

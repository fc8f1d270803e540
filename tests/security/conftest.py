"""A real chat server (as `arbitrage up` runs it) for the security tests, and accounts on it.

Each test makes its own accounts (`make_user`), so revoking, demoting or locking one out
never changes what another test sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.harness import ChatServer
from tests.e2e.seed import seed_all
from tools.db import dispose_engines, session_scope
from tools.models import Role
from tools.settings import Settings
from tools.users import add_user


@pytest.fixture(scope="session")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    data = tmp_path_factory.mktemp("chat-security")
    seed_all(Settings(data_dir=data))
    dispose_engines()
    server = ChatServer(data_dir=data).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_settings(chat: ChatServer) -> Settings:
    return Settings(data_dir=chat.data_dir)


@pytest.fixture
def make_user(server_settings: Settings) -> Callable[..., tuple[str, str]]:
    """make_user(role) -> (name, password): a fresh account in the server's database."""

    def make(role: Role = Role.user) -> tuple[str, str]:
        name = f"{role.value}-{uuid.uuid4().hex[:8]}"
        password = "pw-" + uuid.uuid4().hex
        with session_scope(server_settings) as session:
            add_user(session, name, password, role)
        return name, password

    return make

"""SP-API credentials: encrypted at rest, unreadable without the key, only ever shown masked."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from chat_ui.cli import app
from tools.db import session_scope
from tools.models import User
from tools.restrictions.credentials import (
    CredentialError,
    connect_account,
    credential_view,
    load_credentials,
)
from tools.restrictions.errors import ReconnectRequired
from tools.security import DecryptionError, decrypt
from tools.settings import Settings
from tools.users import add_user

REFRESH = "Atzr|IwEBIA-very-secret-refresh-token-0123456789"
CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.super-secret-client-secret-value"


def _user(settings: Settings) -> int:
    with session_scope(settings) as session:
        uid = add_user(session, "seller1", "password123").id
        assert uid is not None
        return uid


def test_credentials_are_not_readable_in_the_database(settings: Settings) -> None:
    uid = _user(settings)
    with session_scope(settings) as session:
        view = connect_account(
            session, settings, uid, "a1seller0001", REFRESH, CLIENT_ID, CLIENT_SECRET
        )
    assert view.seller_id == "A1SELLER0001"
    assert view.refresh_token == "…6789" and view.client_secret == "…alue"
    raw = (settings.data_dir / "arbitrage.db").read_bytes()
    for secret in (REFRESH, CLIENT_ID, CLIENT_SECRET, "very-secret", "super-secret"):
        assert secret.encode() not in raw
    with session_scope(settings) as session:
        row = session.execute(
            text("SELECT refresh_token_enc, client_secret_enc FROM user_credential")
        ).one()
        assert session.get(User, uid).seller_id == "A1SELLER0001"  # type: ignore[union-attr]
    with pytest.raises(DecryptionError):
        decrypt(row[0], "some other key")
    assert decrypt(row[0], settings.resolved_secret_key()) == REFRESH
    assert decrypt(row[1], settings.resolved_secret_key()) == CLIENT_SECRET
    with session_scope(settings) as session:
        stored = load_credentials(session, settings, uid)
    assert stored is not None and stored.refresh_token == REFRESH
    assert REFRESH not in repr(stored) and CLIENT_SECRET not in repr(stored)


def test_a_changed_secret_key_asks_to_reconnect(settings: Settings) -> None:
    uid = _user(settings)
    with session_scope(settings) as session:
        connect_account(session, settings, uid, "A1SELLER0001", REFRESH)
    other = settings.model_copy(update={"secret_key": "a different key"})
    with session_scope(settings) as session, pytest.raises(ReconnectRequired, match="SECRET_KEY"):
        load_credentials(session, other, uid)
    with session_scope(settings) as session:
        view = credential_view(session, other, uid)
    assert view is not None and view.refresh_token == "(unreadable with this SECRET_KEY)"


@pytest.mark.parametrize(
    ("seller", "token", "cid", "secret", "message"),
    [
        ("A1SELLER0001", "", None, None, "refresh token is required"),
        ("x", REFRESH, None, None, "seller id"),
        ("A1SELLER0001", REFRESH, CLIENT_ID, None, "both client id and client secret"),
        ("A1SELLER0001", "has space", None, None, "must not contain spaces"),
    ],
)
def test_bad_credentials_are_refused_clearly(
    settings: Settings, seller: str, token: str, cid: str | None, secret: str | None, message: str
) -> None:
    uid = _user(settings)
    with session_scope(settings) as session, pytest.raises(CredentialError, match=message):
        connect_account(session, settings, uid, seller, token, cid, secret)


def test_cli_connect_reads_secrets_from_stdin_and_shows_them_masked(settings: Settings) -> None:
    _user(settings)
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "restrictions",
            "connect",
            "seller1",
            "--seller-id",
            "A1SELLER0001",
            "--client-id",
            CLIENT_ID,
        ],
        input=f"{REFRESH}\n{CLIENT_SECRET}\n",
    )
    assert result.exit_code == 0, result.output
    assert "connected" in result.output and "…6789" in result.output
    shown = runner.invoke(app, ["restrictions", "show", "seller1"])
    assert shown.exit_code == 0 and "connected" in shown.output
    for out in (result.output, shown.output):
        assert REFRESH not in out and CLIENT_SECRET not in out and "secret-refresh" not in out
    with session_scope(settings) as session:
        stored = load_credentials(session, settings, 1)
    assert stored is not None and stored.client_secret == CLIENT_SECRET
    missing = runner.invoke(
        app,
        [
            "restrictions",
            "connect",
            "nobody",
            "--seller-id",
            "A1SELLER0001",
            "--refresh-token",
            REFRESH,
        ],
    )
    assert missing.exit_code == 1

"""`arbitrage users ...`: accounts with hashed passwords, roles, clear errors."""

from __future__ import annotations

from typer.testing import CliRunner

from chat_ui.cli import app
from tools.db import session_scope
from tools.models import Role
from tools.users import authenticate, ensure_first_admin, get_user

runner = CliRunner()


def test_add_list_and_change_password(settings) -> None:
    r = runner.invoke(app, ["users", "add", "sam", "--password", "correct-horse"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "ada", "--admin", "--password", "admin-pass-1"])
    assert r.exit_code == 0, r.output
    listing = runner.invoke(app, ["users", "list"])
    assert "sam" in listing.output and "ada" in listing.output and "admin" in listing.output
    with session_scope(settings) as s:
        sam = get_user(s, "sam")
        assert sam is not None and sam.role == Role.user
        assert "correct-horse" not in sam.password_hash
        assert authenticate(s, "sam", "correct-horse")
        assert authenticate(s, "sam", "wrong-password") is None
    r = runner.invoke(app, ["users", "passwd", "sam", "--password", "new-secret-9"])
    assert r.exit_code == 0
    with session_scope(settings) as s:
        assert authenticate(s, "sam", "new-secret-9")
        assert authenticate(s, "sam", "correct-horse") is None


def test_password_from_stdin(settings) -> None:
    r = runner.invoke(app, ["users", "add", "piped"], input="from-stdin-pw\n")
    assert r.exit_code == 0, r.output
    with session_scope(settings) as s:
        assert authenticate(s, "piped", "from-stdin-pw")


def test_errors_are_one_line_not_tracebacks(settings) -> None:
    runner.invoke(app, ["users", "add", "sam", "--password", "correct-horse"])
    dup = runner.invoke(app, ["users", "add", "sam", "--password", "another-one"])
    assert dup.exit_code == 1
    assert "already exists" in dup.output
    short = runner.invoke(app, ["users", "add", "bob", "--password", "short"])
    assert short.exit_code == 1 and "at least 8" in short.output
    missing = runner.invoke(app, ["users", "passwd", "nobody", "--password", "whatever-1"])
    assert missing.exit_code == 1 and "no user named" in missing.output
    assert "Traceback" not in dup.output + short.output + missing.output


def test_first_admin_created_once(settings) -> None:
    with session_scope(settings) as s:
        pw = ensure_first_admin(s)
    assert pw and len(pw) >= 12
    with session_scope(settings) as s:
        assert ensure_first_admin(s) is None
        admin = authenticate(s, "admin", pw)
        assert admin is not None and admin.role == Role.admin

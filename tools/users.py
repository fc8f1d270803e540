"""User accounts: creation, passwords, roles, disabling, and the sessions they sign in with.

A sign-in session carries the account's id and token version. Changing the password or the
role, disabling the account and signing out bump the version, which ends every session made
before: the chat compares the two on every request and every turn (`session_account`).
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from sqlalchemy import false
from sqlmodel import Session, col, select

from tools.models import Role, User
from tools.security import hash_password, verify_password

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user operation that cannot be done, with a message fit to show."""


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError("user name must be 2-64 letters, digits or _ . @ -")
    return name


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def get_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def add_user(session: Session, name: str, password: str, role: Role = Role.user) -> User:
    validate_name(name)
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if get_user(session, name):
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def _existing(session: Session, name: str) -> User:
    user = get_user(session, name)
    if not user:
        raise UserError(f"no user named {name!r}")
    return user


def end_sessions(user: User) -> None:
    """Every session signed in before this is refused from now on."""
    user.token_version = (user.token_version or 0) + 1


def set_password(session: Session, name: str, password: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    user = _existing(session, name)
    user.password_hash = hash_password(password)
    end_sessions(user)
    session.add(user)
    return user


def _other_active_admins(session: Session, user: User) -> int:
    rows = session.exec(
        select(User).where(
            User.role == Role.admin, User.id != user.id, col(User.disabled) == false()
        )
    )
    return len(list(rows))


def set_role(session: Session, name: str, role: Role) -> User:
    """Give `name` the role; a change ends the user's sessions (they sign in with the new one)."""
    user = _existing(session, name)
    if user.role == role:
        return user
    if user.role == Role.admin and not user.disabled and not _other_active_admins(session, user):
        raise UserError(f"{name!r} is the only active admin; make another admin first")
    user.role = role
    end_sessions(user)
    session.add(user)
    return user


def set_disabled(session: Session, name: str, disabled: bool = True) -> User:
    """Disable (or enable again) an account; disabling ends its sessions at once."""
    user = _existing(session, name)
    if (
        disabled
        and user.role == Role.admin
        and not user.disabled
        and not _other_active_admins(session, user)
    ):
        raise UserError(f"{name!r} is the only active admin; make another admin first")
    if user.disabled != disabled:
        user.disabled = disabled
        end_sessions(user)
        session.add(user)
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The account for a correct name and password, else None.

    An unknown name is checked against a dummy hash, so it costs the same time as a known one
    and the answer's timing does not tell which names exist; a disabled account fails alike.
    """
    dummy = _dummy_hash()  # made before the lookup: the first unknown name is not slower
    user = get_user(session, name) if _NAME.match(name) else None
    if user is None:
        verify_password(password, dummy)
        return None
    if verify_password(password, user.password_hash) and not user.disabled:
        return user
    return None


def session_account(
    session: Session, user_id: int | None, token_version: int | None
) -> User | None:
    """The account a sign-in session belongs to while that session is still valid.

    None when the account is gone or disabled, or the session was signed in before the
    account's last password change, role change, disabling or sign-out.
    """
    if user_id is None or token_version is None:
        return None
    user = session.get(User, user_id)
    if user is None or user.disabled or user.token_version != token_version:
        return None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)))


def ensure_first_admin(session: Session, name: str = "admin") -> str | None:
    """Create the first admin when there is none; returns its generated password once."""
    if session.exec(select(User).where(User.role == Role.admin)).first():
        return None
    password = generate_password()
    add_user(session, name, password, Role.admin)
    return password

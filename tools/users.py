"""User accounts: creation, passwords, roles and per-user money settings."""

from __future__ import annotations

import re
import secrets

from sqlmodel import Session, select

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


def set_password(session: Session, name: str, password: str) -> User:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    user = get_user(session, name)
    if not user:
        raise UserError(f"no user named {name!r}")
    user.password_hash = hash_password(password)
    session.add(user)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = get_user(session, name)
    if user and verify_password(password, user.password_hash):
        return user
    return None


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)))


def ensure_first_admin(session: Session, name: str = "admin") -> str | None:
    """Create the first admin when there is none; returns its generated password once."""
    if session.exec(select(User).where(User.role == Role.admin)).first():
        return None
    password = generate_password()
    add_user(session, name, password, Role.admin)
    return password

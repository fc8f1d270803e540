"""Per-user SP-API credentials, encrypted at rest with the app's secret key.

Secrets (refresh token, client id, client secret) are stored only as Fernet ciphertext, are
never logged, and are shown back only masked. Reconnecting resets the "reconnect required"
state a rejected refresh token left behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session

from tools.models import User, UserCredential, utcnow
from tools.restrictions.errors import ReconnectRequired
from tools.security import DecryptionError, decrypt, encrypt, mask
from tools.settings import Settings

CONNECTED = "connected"
RECONNECT_REQUIRED = "reconnect_required"
_UNREADABLE = "\0unreadable"
_SELLER_ID = re.compile(r"^[A-Z0-9]{8,20}$")


class CredentialError(ValueError):
    """Credentials given to `connect_account` are unusable; the message says which field."""


@dataclass(frozen=True)
class CredentialView:
    """What may be shown about a stored credential: masked secrets and its state."""

    user_id: int
    seller_id: str
    refresh_token: str
    client_id: str
    client_secret: str
    state: str
    last_error: str | None


@dataclass(frozen=True)
class StoredCredentials:
    """Decrypted secrets, for the client only; repr never shows them."""

    seller_id: str
    refresh_token: str
    client_id: str | None
    client_secret: str | None

    def __repr__(self) -> str:
        return f"StoredCredentials(seller_id={self.seller_id!r}, secrets=<hidden>)"


def _clean(value: str | None, name: str, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise CredentialError(f"{name} is required")
        return None
    if any(c.isspace() for c in value):
        raise CredentialError(f"{name} must not contain spaces")
    return value


def connect_account(
    session: Session,
    settings: Settings,
    user_id: int,
    seller_id: str,
    refresh_token: str,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> CredentialView:
    """Store (or replace) a user's SP-API credentials, encrypted; returns the masked view."""
    user = session.get(User, user_id)
    if user is None:
        raise CredentialError(f"no user with id {user_id}")
    seller = (_clean(seller_id, "seller id", True) or "").upper()
    if not _SELLER_ID.match(seller):
        raise CredentialError("seller id must be 8-20 letters and digits (e.g. A2EXAMPLE123)")
    token = _clean(refresh_token, "refresh token", True) or ""
    cid = _clean(client_id, "client id", False)
    csecret = _clean(client_secret, "client secret", False)
    if (cid is None) != (csecret is None):
        raise CredentialError("give both client id and client secret, or neither")
    key = settings.resolved_secret_key()
    row = session.get(UserCredential, user_id) or UserCredential(
        user_id=user_id, seller_id=seller, refresh_token_enc=""
    )
    row.seller_id = seller
    row.refresh_token_enc = encrypt(token, key)
    row.client_id_enc = encrypt(cid, key) if cid else None
    row.client_secret_enc = encrypt(csecret, key) if csecret else None
    row.state = CONNECTED
    row.last_error = None
    row.updated_at = utcnow()
    user.seller_id = seller
    session.add(row)
    session.add(user)
    session.flush()
    return _view(row, StoredCredentials(seller, token, cid, csecret))


def disconnect_account(session: Session, user_id: int) -> bool:
    row = session.get(UserCredential, user_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def load_credentials(
    session: Session, settings: Settings, user_id: int
) -> StoredCredentials | None:
    """The user's decrypted credentials, None when never connected.

    Raises ReconnectRequired when Amazon rejected them before, or when they cannot be
    decrypted (the secret key changed): both need the seller to connect again.
    """
    row = session.get(UserCredential, user_id)
    if row is None:
        return None
    if row.state == RECONNECT_REQUIRED:
        raise ReconnectRequired(row.last_error or "reconnect your Amazon seller account")
    key = settings.resolved_secret_key()
    try:
        return StoredCredentials(
            seller_id=row.seller_id,
            refresh_token=decrypt(row.refresh_token_enc, key),
            client_id=decrypt(row.client_id_enc, key) if row.client_id_enc else None,
            client_secret=decrypt(row.client_secret_enc, key) if row.client_secret_enc else None,
        )
    except DecryptionError:
        raise ReconnectRequired(
            "stored Amazon credentials cannot be decrypted with this SECRET_KEY; "
            "reconnect your Amazon seller account"
        ) from None


def mark_reconnect_required(session: Session, user_id: int, error: str) -> None:
    row = session.get(UserCredential, user_id)
    if row is None:
        return
    row.state = RECONNECT_REQUIRED
    row.last_error = error
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


def credential_view(session: Session, settings: Settings, user_id: int) -> CredentialView | None:
    """The masked view of a user's stored credential, or None when not connected."""
    row = session.get(UserCredential, user_id)
    if row is None:
        return None
    key = settings.resolved_secret_key()

    def peek(enc: str | None) -> str | None:
        if not enc:
            return None
        try:
            return decrypt(enc, key)
        except DecryptionError:
            return _UNREADABLE

    secrets = StoredCredentials(
        row.seller_id,
        peek(row.refresh_token_enc) or "",
        peek(row.client_id_enc),
        peek(row.client_secret_enc),
    )
    return _view(row, secrets)


def _shown(secret: str | None) -> str:
    if secret == _UNREADABLE:
        return "(unreadable with this SECRET_KEY)"
    return mask(secret) if secret else "(app default)"


def _view(row: UserCredential, secrets: StoredCredentials) -> CredentialView:
    return CredentialView(
        user_id=row.user_id,
        seller_id=row.seller_id,
        refresh_token=_shown(secrets.refresh_token),
        client_id=_shown(secrets.client_id),
        client_secret=_shown(secrets.client_secret),
        state=row.state,
        last_error=row.last_error,
    )

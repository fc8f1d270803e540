"""Password hashing and encryption of stored secrets, with maintained libraries."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


class DecryptionError(RuntimeError):
    """Stored ciphertext cannot be read with this app's secret key."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    # Any string works as SECRET_KEY; it is stretched to the 32-byte Fernet key here.
    digest = hashlib.sha256(secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken as err:
        raise DecryptionError("stored credential cannot be decrypted with this SECRET_KEY") from err


def mask(secret: str | None, keep: int = 4) -> str:
    """Show a secret back only as its last few characters."""
    if not secret:
        return ""
    return "…" + secret[-keep:] if len(secret) > keep * 2 else "…"

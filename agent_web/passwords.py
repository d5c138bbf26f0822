"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when password matches stored_hash. Without a stored hash (no such account) it
    verifies against a dummy hash and returns False, so that an unknown login costs as much
    as a wrong password and cannot be told apart by its timing."""
    try:
        matches = _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and stored_hash is not None


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no such account")

"""Visitor identity for the web chat: a random visitor id the widget keeps in localStorage,
and an HMAC token over it so nobody can read another visitor's chat by guessing ids."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

VISITOR = re.compile(r"^v-[A-Za-z0-9_-]{16,64}$")


class VisitorTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def new_visitor(self) -> tuple[str, str]:
        visitor = "v-" + secrets.token_urlsafe(18)
        return visitor, self.token(visitor)

    def token(self, visitor: str) -> str:
        return hmac.new(self._secret, visitor.encode(), hashlib.sha256).hexdigest()

    def valid(self, visitor: str, token: str) -> bool:
        return bool(VISITOR.match(visitor)) and hmac.compare_digest(
            self.token(visitor).encode(), token.encode()
        )


def load_secret(configured: str | None, var_dir: Path) -> bytes:
    """HUB_SESSION_SECRET if set; otherwise a random secret kept in var/ so visitors'
    tokens survive a restart."""
    if configured:
        return configured.encode()
    path = var_dir / "webchat.secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        secret = secrets.token_bytes(32)
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secret.hex())
        path.chmod(0o600)
        return secret

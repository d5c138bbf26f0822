"""Signed-in staff: server-side sessions (sign-in throttling is agent_web/login_guard.py).

The browser holds only a random session token (HttpOnly cookie); the database holds its
SHA-256, so a copy of the sessions collection signs nobody in. Each session carries its own
CSRF token, which every mutating request must echo in a header.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from primitives.clock import Clock


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    login: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime  # absolute: one shift, however active
    last_seen: datetime  # idle sessions end earlier (SessionPolicy.idle_s)


class SessionRepository(Protocol):
    async def add(self, session: WebSession) -> None: ...

    async def find(self, token_hash: str) -> WebSession | None: ...

    async def touch(self, token_hash: str, at: datetime) -> None: ...

    async def remove(self, token_hash: str) -> None: ...

    async def remove_for_login(self, login: str) -> int: ...

    async def remove_expired(self, now: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    ttl_s: float = 12 * 3600.0  # a hotline shift
    idle_s: float = 2 * 3600.0
    touch_every_s: float = 300.0  # last_seen is written at most this often (writes are scarce)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionDesk:
    def __init__(
        self, repo: SessionRepository, clock: Clock, policy: SessionPolicy | None = None
    ) -> None:
        self._repo = repo
        self._clock = clock
        self.policy = policy or SessionPolicy()

    async def start(self, login: str) -> tuple[str, WebSession]:
        """A new session for login: (the token for the cookie, the stored session)."""
        now = self._clock.now()
        await self._repo.remove_expired(now)
        token = secrets.token_urlsafe(32)
        session = WebSession(
            token_hash=hash_token(token),
            login=login,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(seconds=self.policy.ttl_s),
            last_seen=now,
        )
        await self._repo.add(session)
        return token, session

    async def resolve(self, token: str) -> WebSession | None:
        """The live session the token stands for; None when unknown, expired or idle too long."""
        if not token or len(token) > 128:
            return None
        session = await self._repo.find(hash_token(token))
        if session is None:
            return None
        now = self._clock.now()
        idle = (now - session.last_seen).total_seconds()
        if now >= session.expires_at or idle >= self.policy.idle_s:
            await self._repo.remove(session.token_hash)
            return None
        if idle >= self.policy.touch_every_s:
            await self._repo.touch(session.token_hash, now)
            session = replace(session, last_seen=now)
        return session

    async def end(self, session: WebSession) -> None:
        await self._repo.remove(session.token_hash)

    async def end_all(self, login: str) -> int:
        """Sign login out everywhere (deactivated, password changed)."""
        return await self._repo.remove_for_login(login)

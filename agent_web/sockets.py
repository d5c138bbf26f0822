"""Open agent WebSockets per login: an agent with two tabs is disconnected only when the
last one closes, and shutdown closes them all (aiohttp waits for open handlers)."""

from __future__ import annotations

import contextlib

from aiohttp import WSCloseCode, web


class SocketRegistry:
    def __init__(self) -> None:
        self._by_login: dict[str, set[web.WebSocketResponse]] = {}

    def add(self, login: str, ws: web.WebSocketResponse) -> bool:
        """Register ws; True when it is the login's first open socket."""
        sockets = self._by_login.setdefault(login, set())
        sockets.add(ws)
        return len(sockets) == 1

    def remove(self, login: str, ws: web.WebSocketResponse) -> bool:
        """Forget ws; True when the login has no open socket left."""
        sockets = self._by_login.get(login, set())
        sockets.discard(ws)
        if sockets:
            return False
        self._by_login.pop(login, None)
        return True

    def count(self, login: str) -> int:
        return len(self._by_login.get(login, ()))

    async def close_login(self, login: str, reason: str) -> None:
        """Close every socket of login (signed out, deactivated)."""
        for ws in list(self._by_login.get(login, ())):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason.encode())

    async def close_all(self) -> None:
        for login in list(self._by_login):
            for ws in list(self._by_login.get(login, ())):
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

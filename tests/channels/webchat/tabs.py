"""A widget tab for protocol tests: a WebSocket to /webchat/ws and the frames it received."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.agent_web.conftest import Hub

WS = "/webchat/ws"


class Tab:
    """One widget tab: a WebSocket and the frames it received."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def until(self, kind: str, **match: Any) -> dict[str, Any]:
        """Read frames until one of `kind` (matching `match`) arrives; return it."""
        while True:
            msg = await self.ws.receive(timeout=20)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    def messages(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "message"]


async def open_tab(hub: Hub, visitor: str = "", token: str = "", after: str = "", **extra) -> Tab:
    tab = Tab(await hub.client.ws_connect(WS))
    await tab.send(type="hello", visitor=visitor, token=token, after=after, **extra)
    return tab

"""Open widget sockets by visitor, and the web chat's Outbox sender.

A visitor may have several tabs open; every tab gets every message. A message for a visitor
with no open socket stays stored: the widget fetches it on its next hello (resume), so the
outbox records it as sent to the visitor's mailbox rather than failing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSCloseCode, web

from routing.assignment import Acd
from routing.events import (
    ConversationAssigned,
    ConversationClosed,
    ConversationQueued,
    EventBus,
    QueuePosition,
)
from routing.messages import StoredMessage
from routing.outbox import OutboundMessage

log = logging.getLogger(__name__)

CHANNEL = "webchat"
CLOSE_TIMEOUT_S = 2.0  # a widget that does not answer the close frame is dropped


def message_frame(m: StoredMessage, sender_name: str = "") -> dict[str, Any]:
    meta = dict(m.meta)
    frame: dict[str, Any] = {
        "type": "message",
        "id": m.id,
        "sender": m.sender.value,
        "sender_name": sender_name or meta.get("sender_name", ""),
        "text": m.text,
        "quick_replies": [b for b in meta.get("quick_replies", "").split("\n") if b],
        "at": m.created_at.isoformat(),
    }
    if "file" in meta:
        frame["file"] = {
            "id": meta["file"],
            "name": meta.get("file_name", ""),
            "mime": meta.get("file_mime", ""),
        }
    if "client_id" in meta:
        frame["client_id"] = meta["client_id"]
    return frame


class VisitorSockets:
    def __init__(self) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._visitor_of: dict[str, str] = {}  # conversation -> visitor
        self._held: dict[str, list[str]] = {}  # visitor -> frames kept back while a turn runs

    def add(self, visitor: str, ws: web.WebSocketResponse) -> None:
        self._sockets[visitor].add(ws)

    def remove(self, visitor: str, ws: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(visitor)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                del self._sockets[visitor]

    def follow(self, conversation_id: str, visitor: str) -> None:
        self._visitor_of[conversation_id] = visitor

    def count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def push(self, visitor: str, frame: dict[str, Any]) -> int:
        """Send to every open tab of visitor; the number that took it."""
        text = json.dumps(frame, ensure_ascii=False)
        held = self._held.get(visitor)
        if held is not None:
            held.append(text)
            return max(1, len(self._sockets.get(visitor, ())))
        return await self._send(visitor, text)

    async def push_now(self, visitor: str, frame: dict[str, Any]) -> int:
        """push, past a hold: the replies of the visitor's own turn."""
        return await self._send(visitor, json.dumps(frame, ensure_ascii=False))

    async def _send(self, visitor: str, text: str) -> int:
        sent = 0
        for ws in list(self._sockets.get(visitor, ())):
            if ws.closed:
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(text)
                sent += 1
        return sent

    @contextlib.asynccontextmanager
    async def holding(self, visitor: str) -> AsyncIterator[None]:
        """Keep back what others push to visitor (an agent's greeting, a state change) while
        the visitor's own turn runs, and send it after the turn's replies: "正在为您接通"
        comes before "人工客服…为您服务" even when an agent takes the chat at once."""
        if visitor in self._held:  # another tab's turn is already holding
            yield
            return
        self._held[visitor] = []
        try:
            yield
        finally:
            for text in self._held.pop(visitor, []):
                await self._send(visitor, text)

    async def push_conversation(self, conversation_id: str, frame: dict[str, Any]) -> None:
        visitor = self._visitor_of.get(conversation_id)
        if visitor is not None:
            await self.push(visitor, frame)

    async def close_all(self) -> None:
        """Close every visitor socket at once ("service restart": the widget reconnects)."""
        every = [ws for sockets in self._sockets.values() for ws in sockets]
        await asyncio.gather(*(_close(ws) for ws in every))


async def _close(ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"server restart")


class WebchatSender:
    """Outbox sender: agent and system messages to the visitor's open tabs."""

    def __init__(self, sockets: VisitorSockets) -> None:
        self._sockets = sockets

    async def send(self, message: OutboundMessage) -> None:
        meta = dict(message.meta)
        frame = {
            "type": "message",
            "id": message.message_id,
            "sender": message.sender.value,
            "sender_name": message.sender_name,
            "text": message.text,
            "quick_replies": list(message.quick_replies),
            "at": meta.get("at", ""),
        }
        self._sockets.follow(message.conversation_id, message.to)
        await self._sockets.push(message.to, frame)


def agents_online(acd: Acd | None, conversation_id: str) -> int | None:
    """How many signed-in agents could serve the queue the conversation waits in (None:
    unknown). Zero means the wait estimate is a guess: the widget says no one is on duty."""
    if acd is None:
        return None
    entry = acd.waiting_entry(conversation_id)
    if entry is None:
        return None
    return acd.agents_online(entry.queue)


def position_frame(
    conversation_id: str, position: int, wait_s: int, acd: Acd | None
) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "position", "position": position, "wait_s": wait_s}
    agents = agents_online(acd, conversation_id)
    if agents is not None:
        frame["agents"] = agents
    return frame


async def relay_events(bus: EventBus, sockets: VisitorSockets, acd: Acd | None = None) -> None:
    """Queue position and conversation state to the visitor (nothing is stored for these)."""
    async with bus.subscribe(
        lambda e: isinstance(
            e, QueuePosition | ConversationQueued | ConversationAssigned | ConversationClosed
        )
    ) as events:
        async for event in events:
            try:
                if isinstance(event, QueuePosition):
                    frame = position_frame(
                        event.conversation_id, event.position, event.wait_estimate_s, acd
                    )
                elif isinstance(event, ConversationQueued):
                    frame = {"type": "state", "state": "queued"}
                    if acd is not None:  # the place in line at once, not after the debounce
                        position, wait_s = acd.position(event.conversation_id)
                        if position:
                            await sockets.push_conversation(event.conversation_id, frame)
                            frame = position_frame(event.conversation_id, position, wait_s, acd)
                elif isinstance(event, ConversationAssigned):
                    frame = {"type": "state", "state": "assigned"}
                else:
                    frame = {"type": "state", "state": "closed", "rate": True}
                await sockets.push_conversation(event.conversation_id, frame)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webchat.relay_failed")

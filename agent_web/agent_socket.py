"""GET /api/v1/agent/ws: the inbox's live feed (Rocket.Chat agents complain that queued chats
appear only after a reload; here nothing needs one).

Server → client: one JSON object per event, {"type": …} (see event_feed.py), after a first
{"type": "hello", "login", "me"}. Client → server: {"type": "watch", "conversation_id"} to
follow one more conversation live (a supervisor's monitor, an agent's preview of an offer),
{"type": "unwatch"}, {"type": "ping"} (→ "pong").

The socket is the agent's presence: the first socket of a login tells the desk the agent is
connected; when the last one closes the desk starts the 30-second grace period after which
their conversations go back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from agent_web.access import may_view
from agent_web.auth import Caller, check_origin, requires
from agent_web.event_feed import EventFeed
from agent_web.inbox_api import SERVING, presence_json
from agent_web.keys import ACD, AGENT_DESK, EVENTS, ROUTER, SOCKETS
from primitives.errors import NotFound
from primitives.untrusted_json import InvalidJson, decode_object
from routing.events import Subscription

log = logging.getLogger(__name__)

HEARTBEAT_S = 25.0
UNAVAILABLE = "暂时无法处理，请稍后重试"
MAX_CLIENT_MESSAGE = 4096


@requires(*SERVING)
async def agent_ws(request: web.Request, me: Caller) -> web.WebSocketResponse:
    check_origin(request)  # SameSite cookies aside, refuse cross-site WebSocket hijacking
    acd, desk = request.app[ACD], request.app[AGENT_DESK]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_CLIENT_MESSAGE)
    await ws.prepare(request)
    feed = EventFeed(me.agent, acd)
    registry = request.app[SOCKETS]
    subscription = request.app[EVENTS].subscribe(feed.accepts)
    has_seat = acd.seat(me.login) is not None
    if registry.add(me.login, ws) and has_seat:
        await desk.connected(me.login)
    log.info("agent_ws.open", extra={"login": me.login})
    pump = asyncio.create_task(_pump(subscription, feed, ws))
    try:
        seat = acd.seat(me.login)
        await ws.send_json({"type": "hello", "login": me.login, "me": presence_json(seat)})
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    answer = await _command(request, me, feed, msg.data)
                except Exception:  # the edge: an outage or a bug must not cost the socket
                    log.exception("agent_ws.command_failed", extra={"login": me.login})
                    answer = {"type": "error", "error": "unavailable", "reason": UNAVAILABLE}
                if answer is not None:
                    await ws.send_json(answer)
    finally:
        subscription.close()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        if registry.remove(me.login, ws) and has_seat:
            await desk.disconnected(me.login)
        log.info("agent_ws.closed", extra={"login": me.login})
    return ws


async def _pump(subscription: Subscription, feed: EventFeed, ws: web.WebSocketResponse) -> None:
    async for event in subscription:
        if ws.closed:
            return
        try:
            await ws.send_json(feed.to_json(event))
        except ConnectionError:
            return


async def _command(
    request: web.Request, me: Caller, feed: EventFeed, raw: str
) -> dict[str, Any] | None:
    try:
        command = decode_object(raw)
    except InvalidJson:
        return {"type": "error", "error": "bad_request", "reason": "send JSON objects"}
    kind = command.get("type")
    if kind == "ping":
        return {"type": "pong"}
    if kind == "unwatch":
        feed.watching = None
        return {"type": "watching", "conversation_id": None}
    if kind == "watch":
        cid = command.get("conversation_id")
        if not isinstance(cid, str) or not 0 < len(cid) <= 64:
            return {
                "type": "error",
                "error": "bad_request",
                "reason": "conversation_id is required",
            }
        router = request.app[ROUTER]
        try:
            conv = await router.conversation(cid)
        except NotFound:
            return {"type": "error", "error": "not_found", "reason": "no such conversation"}
        if not await may_view(router, request.app[ACD], me, conv):
            return {"type": "error", "error": "forbidden", "reason": "you may not watch it"}
        feed.watching = cid
        return {"type": "watching", "conversation_id": cid}
    return {"type": "error", "error": "bad_request", "reason": "unknown command"}


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: close every agent socket, or the server waits for them."""
    await app[SOCKETS].close_all()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/agent/ws", agent_ws)
    app.on_shutdown.append(close_sockets)

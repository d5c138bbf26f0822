"""The web-chat channel: an embeddable widget (one <script> tag) over a WebSocket with
acknowledged, resumable delivery. install(app) adds it to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import DB, SETTINGS
from channels.keys import ROUTING
from channels.webchat.keys import SOCKETS, TOKENS, UPLOADS
from channels.webchat.routes import add_routes
from channels.webchat.tokens import VisitorTokens, load_secret
from channels.webchat.uploads import UploadStore
from channels.webchat.visitors import CHANNEL, VisitorSockets, WebchatSender, relay_events


def install(app: web.Application) -> None:
    add_routes(app)
    app.cleanup_ctx.append(_open)


async def _open(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    secret = settings.hub_session_secret.get_secret_value() if settings.hub_session_secret else None
    app[TOKENS] = VisitorTokens(await asyncio.to_thread(load_secret, secret, settings.hub_var_dir))
    app[UPLOADS] = UploadStore(app[DB], settings.hub_var_dir / "uploads")
    sockets = VisitorSockets()
    app[SOCKETS] = sockets
    stack = app[ROUTING]
    stack.outbox.register(CHANNEL, WebchatSender(sockets))
    relay = asyncio.create_task(relay_events(stack.bus, sockets))
    yield
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    await sockets.close_all()

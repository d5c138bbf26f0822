"""The web-chat channel: an embeddable widget (one <script> tag) over a WebSocket with
acknowledged, resumable delivery. install(app, config) adds it to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from agent_web.keys import ACD, CLOCK, EVENTS, MESSAGES, OUTBOX
from channels.webchat.config import WebchatConfig
from channels.webchat.keys import (
    CONFIG,
    SOCKETS,
    TOKENS,
    TRANSCRIPT_REQUESTS,
    TRANSCRIPTS,
    UPLOAD_RECORDS,
    UPLOADS,
    VERIFICATIONS,
    VERIFIER,
)
from channels.webchat.routes import add_routes
from channels.webchat.tokens import VisitorTokens, load_secret
from channels.webchat.transcripts import SendTranscript
from channels.webchat.uploads import UploadStore
from channels.webchat.verification import ContactVerifier
from channels.webchat.visitors import CHANNEL, VisitorSockets, WebchatSender, relay_events


def install(app: web.Application, config: WebchatConfig) -> None:
    """The channel, with its repositories under UPLOAD_RECORDS, VERIFICATIONS,
    TRANSCRIPT_REQUESTS and RATINGS (set before the app starts)."""
    add_routes(app)
    app.cleanup_ctx.append(partial(_open, config=config))
    # On shutdown, not at cleanup: aiohttp waits for open handlers (up to a minute) before
    # cleanup runs, and the widgets reconnect to the restarted hub by themselves.
    app.on_shutdown.append(_close_visitor_sockets)


async def _close_visitor_sockets(app: web.Application) -> None:
    if SOCKETS in app:
        await app[SOCKETS].close_all()


async def _open(app: web.Application, config: WebchatConfig) -> AsyncIterator[None]:
    key = await asyncio.to_thread(load_secret, config.session_secret, config.var_dir)
    clock = app[CLOCK]
    app[TOKENS] = VisitorTokens(key)
    app[UPLOADS] = UploadStore(app[UPLOAD_RECORDS], config.uploads_dir, clock)
    verifier = ContactVerifier(app[VERIFICATIONS], clock, key)
    app[VERIFIER] = verifier
    app[TRANSCRIPTS] = SendTranscript(app[TRANSCRIPT_REQUESTS], app[MESSAGES], verifier, clock)
    sockets = VisitorSockets()
    app[SOCKETS] = sockets
    app[CONFIG] = config
    app[OUTBOX].register(CHANNEL, WebchatSender(sockets))
    relay = asyncio.create_task(relay_events(app[EVENTS], sockets, app.get(ACD)))
    yield
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    await sockets.close_all()

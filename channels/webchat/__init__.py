"""The web-chat channel: an embeddable widget (one <script> tag) over a WebSocket with
acknowledged, resumable delivery. install(app) adds it to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from agent_web.keys import CLOCK, DB, SETTINGS
from channels.keys import ROUTING
from channels.webchat.keys import RATINGS, SOCKETS, TOKENS, TRANSCRIPTS, UPLOADS, VERIFIER
from channels.webchat.routes import add_routes
from channels.webchat.tokens import VisitorTokens, load_secret
from channels.webchat.transcripts import SendTranscript
from channels.webchat.uploads import UploadStore
from channels.webchat.verification import ContactVerifier
from channels.webchat.visitors import CHANNEL, VisitorSockets, WebchatSender, relay_events
from mongo.ratings import MongoRatingRepository
from mongo.transcripts import MongoTranscriptRequestRepository
from mongo.uploads import MongoUploadRepository
from mongo.verifications import MongoVerificationRepository


def install(app: web.Application) -> None:
    add_routes(app)
    app.cleanup_ctx.append(_open)
    # On shutdown, not at cleanup: aiohttp waits for open handlers (up to a minute) before
    # cleanup runs, and the widgets reconnect to the restarted hub by themselves.
    app.on_shutdown.append(_close_visitor_sockets)


async def _close_visitor_sockets(app: web.Application) -> None:
    if SOCKETS in app:
        await app[SOCKETS].close_all()


async def _open(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    secret = settings.hub_session_secret.get_secret_value() if settings.hub_session_secret else None
    key = await asyncio.to_thread(load_secret, secret, settings.hub_var_dir)
    db, clock, stack = app[DB], app[CLOCK], app[ROUTING]
    app[TOKENS] = VisitorTokens(key)
    app[UPLOADS] = UploadStore(MongoUploadRepository(db), settings.hub_var_dir / "uploads", clock)
    verifier = ContactVerifier(MongoVerificationRepository(db), clock, key)
    app[VERIFIER] = verifier
    app[TRANSCRIPTS] = SendTranscript(
        MongoTranscriptRequestRepository(db), stack.messages, verifier, clock
    )
    app[RATINGS] = MongoRatingRepository(db)
    sockets = VisitorSockets()
    app[SOCKETS] = sockets
    stack.outbox.register(CHANNEL, WebchatSender(sockets))
    relay = asyncio.create_task(relay_events(stack.bus, sockets))
    yield
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    await sockets.close_all()

"""Running the hub: the database it talks to (embedded or MONGO_URL) and the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from hub.embedded_db import EmbeddedDatabase
from hub.settings import Settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[tuple[Settings, str]]:
    """Settings pointing at a running database, and its kind ("embedded" or "mongodb").

    With MONGO_URL unset, the embedded server is started as a child process for the
    duration of the block and stopped on exit; with it set, nothing embedded starts.
    """
    if not settings.embedded_db:
        yield settings, "mongodb"
        return
    db = EmbeddedDatabase(settings.db_python(), settings.hub_db_path)
    url = await db.start()
    try:
        yield settings.model_copy(update={"mongo_url": url}), "embedded"
    finally:
        await db.stop()


async def serve_until_signalled(
    app: web.Application,
    host: str,
    port: int,
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve app until SIGINT or SIGTERM, then shut down cleanly."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("http.listening", extra={"host": host, "port": port})
        if on_started is not None:
            await on_started()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("http.stopping")
    finally:
        await runner.cleanup()

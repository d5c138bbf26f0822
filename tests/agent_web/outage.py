"""A hub on a database server of its own, which a test can stop to see how the hub copes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hub.app import create_app
from hub.embedded_db import EmbeddedDatabase
from hub.settings import REPO_DIR, Settings
from mongo.client import connect
from tests.agent_web.conftest import EntityBot, Hub, seed_staff


@asynccontextmanager
async def hub_on_own_database(
    aiohttp_client: Any, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[Hub, EmbeddedDatabase]]:
    """(a hub with the staff seeded, its database server); a stopped server fails database
    calls after 0.3 s instead of the default 5 s."""
    server = EmbeddedDatabase(REPO_DIR / ".venv-db" / "bin" / "python", tmp_path / "own.sqlite")
    url = await server.start()
    try:
        client, db = connect(url, settings.mongo_db)
        await seed_staff(db)
        client.close()
        own = settings.model_copy(update={"mongo_url": url, "mongo_selection_timeout_s": 0.3})
        hub = Hub(await aiohttp_client(create_app(own, db_kind="embedded", bot=EntityBot())), [])
        try:
            yield hub, server
        finally:
            for member in hub.sessions:
                await member.close()
    finally:
        await server.stop()

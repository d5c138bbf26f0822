"""One motor client per process, and the database it points at."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from motor.motor_asyncio import (
    AsyncIOMotorClient,
    AsyncIOMotorCollection,
    AsyncIOMotorDatabase,
)
from pymongo import monitoring
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.uri_parser import parse_uri

Database = AsyncIOMotorDatabase[dict[str, Any]]
Client = AsyncIOMotorClient[dict[str, Any]]

DEFAULT_DB_NAME = "hub"


def connect(
    url: str,
    db_name: str | None = None,
    *,
    timeout_ms: int = 5000,
    listeners: Sequence[monitoring.CommandListener] = (),
) -> tuple[Client, Database]:
    """A client and the database named in the URL (or db_name, or 'hub'); listeners see every
    command (mongo/command_timing.py)."""
    client: Client = AsyncIOMotorClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        uuidRepresentation="standard",
        event_listeners=list(listeners),
    )
    name = db_name or parse_uri(url).get("database") or DEFAULT_DB_NAME
    return client, client[name]


async def ping(client: Client, *, timeout_s: float = 2.0) -> bool:
    """True when the server answers ping within timeout_s."""
    try:
        async with asyncio.timeout(timeout_s):
            await client.admin.command("ping")
    except (PyMongoError, TimeoutError):
        return False
    return True


async def wait_until_up(client: Client, *, timeout_s: float = 30.0) -> None:
    """Wait for ping; raise TimeoutError if the server does not answer in time."""
    async with asyncio.timeout(timeout_s):
        while not await ping(client, timeout_s=1.0):  # noqa: ASYNC110 - polling a remote server
            await asyncio.sleep(0.1)


async def insert_once(
    collection: AsyncIOMotorCollection[dict[str, Any]], doc: dict[str, Any]
) -> bool:
    """Insert doc; False when a unique index says it is already there (a retry, a key reused)."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def count(collection: Any, where: Mapping[str, Any]) -> int:
    """Documents matching where, through the `count` command.

    count_documents() sends an aggregation ($match + $group), which the embedded server
    evaluates in Python over every document it decodes; the count command runs as one SQL
    COUNT there, and is an ordinary indexed count on MongoDB."""
    reply = await collection.database.command({"count": collection.name, "query": dict(where)})
    return int(reply["n"])

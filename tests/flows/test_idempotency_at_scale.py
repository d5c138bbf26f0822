"""Idempotency keys still hold when the database already stores thousands of messages.

The single-field unique keys (mongo/indexes.py) and the embedded database's corrections
(hub/mongoeco_fixes.py) change how a duplicate is found; this checks it is still found.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from mongo.customers import MongoCustomerRepository
from mongo.messages import MongoMessageRepository
from routing.customers import Identity, IdentityKind
from routing.messages import Direction, SenderKind, StoredMessage
from tests.fakes.bot import FakeBot

STORED = 3000
URL = "/api/v1/channels/rest/messages"


def _message(i: int, *, mid: str | None = None) -> StoredMessage:
    return StoredMessage(
        id=mid or f"{i:024x}",
        conversation_id=f"conv{i // 10}",
        customer_id=f"c{i // 10}",
        channel="wechat" if i % 2 else "sms",
        external_id=f"acct:{i}",
        direction=Direction.INBOUND,
        sender=SenderKind.CUSTOMER,
        sender_id=f"c{i // 10}",
        text="路灯不亮",
        created_at=datetime.now(UTC),
    )


async def _fill(db: Database) -> MongoMessageRepository:
    repo = MongoMessageRepository(db)
    for start in range(0, STORED, 100):
        stored = await asyncio.gather(*(repo.add(_message(i)) for i in range(start, start + 100)))
        assert all(stored)
    return repo


async def test_retries_are_refused_and_answered_alike_after_thousands_of_messages(
    aiohttp_client, settings: Settings, db: Database
):
    repo = await _fill(db)
    for i in (0, 1, STORED // 2, STORED - 1):
        assert await repo.add(_message(i, mid=f"retry{i:019d}")) is False
        assert await repo.count(_message(i).channel, f"acct:{i}") == 1
        original = await repo.find_by_external(_message(i).channel, f"acct:{i}")
        assert original is not None
        assert original.id == f"{i:024x}"
    # The same provider id on another channel is another message.
    assert await repo.add(replace(_message(0), id="y" * 24, channel="telegram")) is True

    client: TestClient = await aiohttp_client(create_app(settings, bot=FakeBot()))
    payload = {"sender_id": "u1", "text": "新生儿医保怎么办", "message_id": "abc-1"}
    first = await (await client.post(URL, json=payload)).json()
    second = await (await client.post(URL, json=payload)).json()
    assert first["duplicate"] is False
    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    assert [r["text"] for r in second["replies"]] == [r["text"] for r in first["replies"]]
    assert await db["messages"].count_documents({"key": "rest:api:u1/abc-1"}) == 1
    assert await db["messages"].count_documents({}) == STORED + 3  # + telegram, question, answer


async def test_one_identity_keeps_one_owner_among_thousands(db: Database):
    repo = MongoCustomerRepository(db)
    for start in range(0, 500, 100):
        visitors = [Identity(IdentityKind.WEB, f"v{i}") for i in range(start, start + 100)]
        await asyncio.gather(*(repo.get_or_create(v) for v in visitors))
    phone = Identity(IdentityKind.PHONE, "+8613812345678")
    racers = await asyncio.gather(*(repo.get_or_create(phone) for _ in range(10)))
    assert len({c.id for c in racers}) == 1
    assert await db["customers"].count_documents({}) == 501

"""Messages in MongoDB. `key` ("channel:external_id") is unique: a provider retry is stored once.

The key is one string field rather than a compound (channel, external_id) index because the
embedded database checks a compound unique index by reading the whole collection on every
insert; a single-field one it checks through its index (docs/embedded-database.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mongo.client import Database, count, insert_once
from routing.messages import (
    Attachment,
    DeliveryState,
    Direction,
    SenderKind,
    StoredMessage,
)


class MongoMessageRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["messages"]

    async def add(self, msg: StoredMessage) -> bool:
        return await insert_once(self._col, _message_to_doc(msg))

    async def find_by_external(self, channel: str, external_id: str) -> StoredMessage | None:
        doc = await self._col.find_one({"key": message_key(channel, external_id)})
        return _message_from_doc(doc) if doc else None

    async def count(self, channel: str, external_id: str) -> int:
        return await count(self._col, {"key": message_key(channel, external_id)})

    async def list_for_conversation(
        self, conversation_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[StoredMessage]:
        query: dict[str, Any] = {"conversation_id": conversation_id}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self._col.find(query).sort("_id", 1).limit(limit)
        return [_message_from_doc(d) async for d in cursor]

    async def latest_meta(self, conversation_id: str, key: str) -> str | None:
        cursor = self._col.find(
            {"conversation_id": conversation_id, "sender": SenderKind.BOT.value},
            {f"meta.{key}": 1},
        )
        async for d in cursor.sort("_id", -1).limit(5):
            value = (d.get("meta") or {}).get(key)
            if value is not None:
                return str(value)
        return None

    async def last_at(self, conversation_id: str) -> datetime | None:
        cursor = self._col.find({"conversation_id": conversation_id}, {"created_at": 1})
        docs = await cursor.sort("_id", -1).limit(1).to_list(1)
        return docs[0]["created_at"] if docs else None

    async def find_many(self, channel: str, external_ids: list[str]) -> list[StoredMessage]:
        keys = [message_key(channel, e) for e in external_ids]
        cursor = self._col.find({"key": {"$in": keys}})
        return sorted([_message_from_doc(d) async for d in cursor], key=lambda m: m.id)

    async def recent_inbound(self, since: datetime, until: datetime) -> list[StoredMessage]:
        """Inbound messages received between since and until, oldest first."""
        minutes = _minutes(since, until)
        if not minutes:
            return []
        cursor = self._col.find({"received_minute": {"$in": minutes}})
        found = [_message_from_doc(d) async for d in cursor]
        return sorted((m for m in found if since <= m.created_at <= until), key=lambda m: m.id)

    async def pending_outbound(self, limit: int | None = None) -> list[StoredMessage]:
        """Every outbound message still pending (all of them unless limit), oldest first:
        resumed at start, so none may be left behind."""
        cursor = self._col.find({"direction": "out", "delivery": "pending"}).sort("_id", 1)
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_message_from_doc(d) async for d in cursor]

    async def list_for_customer(
        self, customer_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[StoredMessage]:
        """Messages of all the customer's conversations, oldest first, after a message id."""
        conversations = self._col.database["conversations"]
        ids = [d["_id"] async for d in conversations.find({"customer_id": customer_id}, {"_id": 1})]
        if not ids:
            return []
        query: dict[str, Any] = {"conversation_id": {"$in": ids}}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self._col.find(query).sort("_id", 1).limit(limit)
        return [_message_from_doc(d) async for d in cursor]

    async def set_delivery(self, message_id: str, state: DeliveryState, error: str = "") -> None:
        query: dict[str, Any] = {"_id": message_id}
        if state is DeliveryState.SENT:  # a fast receipt may have said delivered already
            query["delivery"] = {"$ne": DeliveryState.DELIVERED.value}
        await self._col.update_one(query, {"$set": {"delivery": state.value, "error": error}})


def message_key(channel: str, external_id: str) -> str:
    """The stored idempotency key of a message."""
    return f"{channel}:{external_id}"


def _minutes(since: datetime, until: datetime) -> list[str]:
    """The received_minute buckets from since to until (at most a day's worth)."""
    start = since.astimezone(UTC).replace(second=0, microsecond=0)
    end = until.astimezone(UTC)
    count = int((end - start).total_seconds() // 60) + 1
    return [_minute(start + timedelta(minutes=i)) for i in range(max(0, min(count, 1440)))]


def _minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d%H%M")


def _message_to_doc(m: StoredMessage) -> dict[str, Any]:
    extra = {"received_minute": _minute(m.created_at)} if m.direction is Direction.INBOUND else {}
    return extra | {
        "_id": m.id,
        "key": message_key(m.channel, m.external_id),
        "conversation_id": m.conversation_id,
        "customer_id": m.customer_id,
        "channel": m.channel,
        "external_id": m.external_id,
        "direction": m.direction.value,
        "sender": m.sender.value,
        "sender_id": m.sender_id,
        "text": m.text,
        "kind": m.kind,
        "created_at": m.created_at,
        "delivery": m.delivery.value,
        "attachments": [
            {"kind": a.kind, "url": a.url, "mime": a.mime, "size": a.size, "name": a.name}
            for a in m.attachments
        ],
        "meta": dict(m.meta),
        "error": m.error,
    }


def _message_from_doc(d: Mapping[str, Any]) -> StoredMessage:
    return StoredMessage(
        id=d["_id"],
        conversation_id=d.get("conversation_id"),
        customer_id=d.get("customer_id"),
        channel=d["channel"],
        external_id=d["external_id"],
        direction=Direction(d["direction"]),
        sender=SenderKind(d["sender"]),
        sender_id=d.get("sender_id", ""),
        text=d.get("text", ""),
        created_at=d["created_at"],
        kind=d.get("kind", "text"),
        delivery=DeliveryState(d.get("delivery", "received")),
        attachments=tuple(Attachment(**a) for a in d.get("attachments", [])),
        meta=tuple(sorted((d.get("meta") or {}).items())),
        error=d.get("error", ""),
    )

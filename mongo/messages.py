"""Messages in MongoDB. (channel, external_id) is unique: a provider retry is stored once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from mongo.client import Database
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
        try:
            await self._col.insert_one(_message_to_doc(msg))
        except DuplicateKeyError:
            return False
        return True

    async def find_by_external(self, channel: str, external_id: str) -> StoredMessage | None:
        doc = await self._col.find_one({"channel": channel, "external_id": external_id})
        return _message_from_doc(doc) if doc else None

    async def count(self, channel: str, external_id: str) -> int:
        return await self._col.count_documents({"channel": channel, "external_id": external_id})

    async def list_for_conversation(
        self, conversation_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[StoredMessage]:
        query: dict[str, Any] = {"conversation_id": conversation_id}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self._col.find(query).sort("_id", 1).limit(limit)
        return [_message_from_doc(d) async for d in cursor]

    async def set_delivery(self, message_id: str, state: DeliveryState, error: str = "") -> None:
        await self._col.update_one(
            {"_id": message_id}, {"$set": {"delivery": state.value, "error": error}}
        )


def _message_to_doc(m: StoredMessage) -> dict[str, Any]:
    return {
        "_id": m.id,
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

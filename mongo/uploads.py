"""Files citizens sent (web chat, Telegram voice) in MongoDB: who sent each, its name, type
and size, when, and the conversations it was sent in (who may download it follows from
those). The bytes themselves live on disk (channels/webchat/uploads.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from channels.webchat.records import Upload, UploadUsage
from mongo.client import Database


class MongoUploadRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["uploads"]

    async def add(self, upload: Upload, at: datetime) -> None:
        await self._col.insert_one(
            {
                "_id": upload.id,
                "visitor": upload.visitor,
                "name": upload.name,
                "mime": upload.mime,
                "size": upload.size,
                "at": at,
            }
        )

    async def find(self, upload_id: str) -> Upload | None:
        doc = await self._col.find_one({"_id": upload_id})
        return _from_doc(doc) if doc else None

    async def usage(self, visitor: str, since: datetime) -> UploadUsage:
        """How many files and bytes visitor uploaded since `since`."""
        cursor = self._col.find({"visitor": visitor, "at": {"$gte": since}}, {"size": 1})
        sizes = [int(d.get("size", 0)) async for d in cursor]
        return UploadUsage(len(sizes), sum(sizes))

    async def sent_in(self, upload_id: str, conversation_id: str) -> None:
        """Record that the upload was sent in the conversation."""
        await self._col.update_one(
            {"_id": upload_id}, {"$addToSet": {"conversations": conversation_id}}
        )


def _from_doc(doc: Mapping[str, Any]) -> Upload:
    return Upload(
        id=str(doc["_id"]),
        visitor=doc["visitor"],
        name=doc["name"],
        mime=doc["mime"],
        size=doc["size"],
        conversations=tuple(doc.get("conversations", ())),
    )

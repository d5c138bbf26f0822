"""Web-chat visitors' requests for a transcript of their chat, with how each went out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from channels.webchat.records import TranscriptRequest
from mongo.client import Database, count


class MongoTranscriptRequestRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["transcript_requests"]

    async def add(self, request: TranscriptRequest) -> None:
        await self._col.insert_one(
            {
                "_id": request.id,
                "conversation_id": request.conversation_id,
                "visitor": request.visitor,
                "email": request.email,
                "phone": request.phone,
                "status": "pending",
                "via": [],
                "at": request.at,
            }
        )

    async def settle(self, request_id: str, status: str, via: tuple[str, ...]) -> None:
        await self._col.update_one(
            {"_id": request_id}, {"$set": {"status": status, "via": list(via)}}
        )

    async def count_since(
        self,
        since: datetime,
        *,
        visitor: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> int:
        """Requests since `since` by one visitor, or to one phone number or address."""
        query: dict[str, Any] = {"at": {"$gte": since}}
        for name, value in (("visitor", visitor), ("phone", phone), ("email", email)):
            if value is not None:
                query[name] = value
        return await count(self._col, query)

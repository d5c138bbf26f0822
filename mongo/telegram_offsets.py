"""The Telegram bot's getUpdates offset (channels/telegram/polling.py), one per bot."""

from __future__ import annotations

from mongo.client import Database


class MongoTelegramOffsets:
    def __init__(self, db: Database, account: str) -> None:
        self._col = db["channel_state"]
        self._id = f"telegram:{account}:offset"

    async def load(self) -> int:
        doc = await self._col.find_one({"_id": self._id})
        return int(doc["offset"]) if doc else 0

    async def save(self, offset: int) -> None:
        await self._col.update_one({"_id": self._id}, {"$set": {"offset": offset}}, upsert=True)

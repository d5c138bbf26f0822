"""Atomic counters (case numbers): one document per counter, incremented server-side."""

from __future__ import annotations

from pymongo import ReturnDocument

from mongo.client import Database


class MongoCounters:
    def __init__(self, db: Database) -> None:
        self._col = db["counters"]

    async def next(self, name: str) -> int:
        """The next value of counter name, starting at 1. Atomic across processes."""
        doc = await self._col.find_one_and_update(
            {"_id": name}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int(doc["n"])

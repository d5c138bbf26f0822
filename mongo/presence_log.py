"""Agent sign-in, sign-out and status changes, kept for reports (agent_sessions)."""

from __future__ import annotations

from datetime import datetime

from mongo.client import Database


class MongoPresenceLog:
    def __init__(self, db: Database) -> None:
        self._col = db["agent_sessions"]

    async def record(self, login: str, status: str, at: datetime) -> None:
        await self._col.insert_one({"login": login, "status": status, "at": at})

    async def history(self, login: str, limit: int = 100) -> list[tuple[str, datetime]]:
        cursor = self._col.find({"login": login}).sort("at", -1).limit(limit)
        return [(d["status"], d["at"]) async for d in cursor]

    async def last(self, login: str) -> str | None:
        docs = await self._col.find({"login": login}).sort("at", -1).limit(1).to_list(1)
        return docs[0]["status"] if docs else None

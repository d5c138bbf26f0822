"""Staff web sessions in MongoDB (agent_web's sign-in)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent_web.sessions import WebSession
from mongo.client import Database


class MongoSessionRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["web_sessions"]

    async def add(self, session: WebSession) -> None:
        await self._col.insert_one(_session_to_doc(session))

    async def find(self, token_hash: str) -> WebSession | None:
        doc = await self._col.find_one({"_id": token_hash})
        return _session_from_doc(doc) if doc else None

    async def touch(self, token_hash: str, at: datetime) -> None:
        await self._col.update_one({"_id": token_hash}, {"$set": {"last_seen": at}})

    async def remove(self, token_hash: str) -> None:
        await self._col.delete_one({"_id": token_hash})

    async def remove_for_login(self, login: str) -> int:
        result = await self._col.delete_many({"login": login})
        return result.deleted_count

    async def remove_expired(self, now: datetime) -> int:
        result = await self._col.delete_many({"expires_at": {"$lte": now}})
        return result.deleted_count


def _session_to_doc(s: WebSession) -> dict[str, Any]:
    return {
        "_id": s.token_hash,
        "login": s.login,
        "csrf_token": s.csrf_token,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "last_seen": s.last_seen,
    }


def _session_from_doc(d: Mapping[str, Any]) -> WebSession:
    return WebSession(
        token_hash=d["_id"],
        login=d["login"],
        csrf_token=d["csrf_token"],
        created_at=d["created_at"],
        expires_at=d["expires_at"],
        last_seen=d["last_seen"],
    )

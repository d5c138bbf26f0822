"""One-time codes that prove a web visitor holds a phone number or a mailbox, in MongoDB.
Only a keyed hash of each code is stored (channels/webchat/verification.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from channels.webchat.records import Verification
from mongo.client import Database, count


class MongoVerificationRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["contact_verifications"]

    async def add(self, v: Verification) -> None:
        await self._col.insert_one(
            {
                "_id": v.id,
                "visitor": v.visitor,
                "kind": v.kind,
                "to": v.to,
                "code_hash": v.code_hash,
                "created_at": v.created_at,
                "expires_at": v.expires_at,
                "attempts": v.attempts,
                "verified_at": v.verified_at,
            }
        )

    async def latest(self, visitor: str, to: str) -> Verification | None:
        """The newest code sent for visitor to `to` (an earlier one is superseded)."""
        doc = await self._col.find_one(
            {"visitor": visitor, "to": to}, sort=[("created_at", -1), ("_id", -1)]
        )
        return _from_doc(doc) if doc else None

    async def count_since(
        self, since: datetime, *, visitor: str | None = None, to: str | None = None
    ) -> int:
        """Codes sent since `since` to one visitor or to one address."""
        query: dict[str, Any] = {"created_at": {"$gte": since}}
        if visitor is not None:
            query["visitor"] = visitor
        if to is not None:
            query["to"] = to
        return await count(self._col, query)

    async def record_attempt(
        self, verification_id: str, max_attempts: int, verified_at: datetime | None
    ) -> int | None:
        """Count one attempt (and mark the code used when verified_at is given); the attempts
        made so far, or None when no attempt was left or the code was already used."""
        changes: dict[str, Any] = {"$inc": {"attempts": 1}}
        if verified_at is not None:
            changes["$set"] = {"verified_at": verified_at}
        doc = await self._col.find_one_and_update(
            {
                "_id": verification_id,
                "verified_at": None,
                "attempts": {"$lt": max_attempts},
            },
            changes,
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["attempts"]) if doc else None

    async def is_verified(self, visitor: str, to: str) -> bool:
        doc = await self._col.find_one(
            {"visitor": visitor, "to": to, "verified_at": {"$ne": None}}, {"_id": 1}
        )
        return doc is not None


def _from_doc(doc: Mapping[str, Any]) -> Verification:
    return Verification(
        id=str(doc["_id"]),
        visitor=doc["visitor"],
        kind=doc["kind"],
        to=doc["to"],
        code_hash=doc["code_hash"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        attempts=int(doc.get("attempts", 0)),
        verified_at=doc.get("verified_at"),
    )

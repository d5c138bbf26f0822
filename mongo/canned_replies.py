"""Canned replies in MongoDB: one shortcut per owner (the unique `key` "owner/shortcut");
shared replies have owner "". One key field, not a compound unique index: the embedded
database checks compound unique indexes by reading the whole collection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from agent_web.canned import CannedReply, CannedReplyNotFound, ShortcutTaken
from mongo.client import Database

_SHARED = ""


class MongoCannedReplyRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["canned_replies"]

    async def visible_to(self, login: str) -> list[CannedReply]:
        cursor = self._col.find({"owner": {"$in": [_SHARED, login]}}).sort("shortcut", 1)
        return [_from_doc(d) async for d in cursor]

    async def get(self, reply_id: str) -> CannedReply:
        doc = await self._col.find_one({"_id": reply_id})
        if doc is None:
            raise CannedReplyNotFound(reply_id)
        return _from_doc(doc)

    async def add(self, reply: CannedReply) -> None:
        try:
            await self._col.insert_one(_to_doc(reply))
        except DuplicateKeyError as e:
            raise ShortcutTaken(reply.shortcut) from e

    async def save(self, reply: CannedReply) -> None:
        doc = _to_doc(reply)
        doc.pop("_id")
        try:
            result = await self._col.update_one({"_id": reply.id}, {"$set": doc})
        except DuplicateKeyError as e:
            raise ShortcutTaken(reply.shortcut) from e
        if result.matched_count == 0:
            raise CannedReplyNotFound(reply.id)

    async def remove(self, reply_id: str) -> None:
        await self._col.delete_one({"_id": reply_id})


def _to_doc(r: CannedReply) -> dict[str, Any]:
    return {
        "_id": r.id,
        "shortcut": r.shortcut,
        "title": r.title,
        "text": r.text,
        "owner": r.owner if r.owner is not None else _SHARED,
        "key": f"{r.owner or _SHARED}/{r.shortcut}",
        "updated_at": r.updated_at,
    }


def _from_doc(d: Mapping[str, Any]) -> CannedReply:
    return CannedReply(
        id=d["_id"],
        shortcut=d["shortcut"],
        title=d.get("title", d["shortcut"]),
        text=d["text"],
        owner=d["owner"] or None,
        updated_at=d["updated_at"],
    )

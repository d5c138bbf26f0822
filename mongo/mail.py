"""Outbound e-mail in MongoDB (channels.mail.records): each mail is stored (pending) before
the SMTP server sees it, then marked sent or failed with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from channels.mail.records import MailRecord
from mongo.client import Database, insert_once


class MongoMailRepository:  # channels.mail.records.MailRepository
    def __init__(self, db: Database) -> None:
        self._out = db["mail_outbound"]

    async def add(self, record: MailRecord, *, key: str | None = None) -> MailRecord | None:
        """Store a pending mail. With key, a second add of the same key is refused (None)."""
        doc = {"_id": record.id, **{k: v for k, v in asdict(record).items() if k != "id"}}
        if key:
            doc["key"] = key
        return record if await insert_once(self._out, doc) else None

    async def get(self, mail_id: str) -> MailRecord | None:
        doc = await self._out.find_one({"_id": mail_id})
        return _from_doc(doc) if doc else None

    async def pending(self) -> list[MailRecord]:
        return [_from_doc(d) async for d in self._out.find({"state": "pending"}).sort("_id", 1)]

    async def sent(self, mail_id: str, at: datetime, attempts: int) -> None:
        await self._out.update_one(
            {"_id": mail_id, "state": "pending"},
            {"$set": {"state": "sent", "sent_at": at, "attempts": attempts, "error": ""}},
        )

    async def failed(self, mail_id: str, error: str, attempts: int) -> None:
        await self._out.update_one(
            {"_id": mail_id, "state": "pending"},
            {"$set": {"state": "failed", "error": error, "attempts": attempts}},
        )


def _from_doc(d: Mapping[str, Any]) -> MailRecord:
    fields = {k: d.get(k) for k in MailRecord.__dataclass_fields__ if k != "id"}
    fields = {k: v for k, v in fields.items() if v is not None}
    return MailRecord(id=str(d["_id"]), **fields)

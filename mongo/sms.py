"""SMS records in MongoDB: outbound SMS with their delivery state (notifications and
conversation replies), inbound SMS already seen (SMPP has no message id to dedupe on), parts
of concatenated inbound SMS, opt-outs (退订) and revisit surveys awaiting a 1/2/3 answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mongo.client import Database, insert_once
from routing.ids import new_id


@dataclass(frozen=True, slots=True)
class SmsRecord:
    id: str
    to: str  # E.164
    text: str
    purpose: str  # reply, accepted, dispatched, department, completed, opt_out, survey_thanks …
    state: str  # pending, sent, delivered, failed, skipped
    created_at: datetime
    case_number: str | None = None
    message_id: str | None = None  # the conversation message this SMS carries
    provider_ids: tuple[str, ...] = ()
    segments: int = 0
    attempts: int = 0
    error: str = ""
    receipts: dict[str, str] = field(default_factory=dict)  # provider id -> stat


@dataclass(frozen=True, slots=True)
class SeenSms:
    id: str  # the external id the router stores the message under
    done: bool


class MongoSmsRepository:
    def __init__(self, db: Database) -> None:
        self._out = db["sms_outbound"]
        self._seen = db["sms_inbound"]
        self._parts = db["sms_parts"]
        self._optouts = db["sms_optouts"]
        self._receipts = db["sms_receipts"]

    # outbound
    async def add(self, record: SmsRecord, *, key: str | None = None) -> SmsRecord | None:
        """Store a pending SMS. With key, a second add of the same key is refused (None)."""
        doc = _to_doc(record)
        if key:
            doc["key"] = key
        return record if await insert_once(self._out, doc) else None

    async def get(self, sms_id: str) -> SmsRecord | None:
        doc = await self._out.find_one({"_id": sms_id})
        return _from_doc(doc) if doc else None

    async def pending(self) -> list[SmsRecord]:
        return [_from_doc(d) async for d in self._out.find({"state": "pending"}).sort("_id", 1)]

    async def mark(self, sms_id: str, state: str, **changes: Any) -> None:
        await self._out.update_one({"_id": sms_id}, {"$set": {"state": state, **changes}})

    async def sent(self, sms_id: str, provider_ids: list[str], at: datetime, attempts: int) -> None:
        changes = {"provider_ids": provider_ids, "sent_at": at, "error": "", "attempts": attempts}
        await self._out.update_one(
            {"_id": sms_id, "state": "pending"}, {"$set": {"state": "sent", **changes}}
        )

    async def find_by_provider_id(self, provider_id: str) -> SmsRecord | None:
        doc = await self._out.find_one({"provider_ids": provider_id})
        return _from_doc(doc) if doc else None

    async def add_receipt(self, provider_id: str, stat: str, at: datetime) -> None:
        """Receipts are kept on their own: one may arrive before the submit's record is
        updated with the provider's ids."""
        await self._receipts.update_one(
            {"_id": provider_id}, {"$set": {"stat": stat, "at": at}}, upsert=True
        )

    async def receipts_for(self, provider_ids: tuple[str, ...]) -> dict[str, str]:
        cursor = self._receipts.find({"_id": {"$in": list(provider_ids)}})
        return {d["_id"]: d["stat"] async for d in cursor}

    async def for_case(self, case_number: str) -> list[SmsRecord]:
        cursor = self._out.find({"case_number": case_number}).sort("_id", 1)
        return [_from_doc(d) async for d in cursor]

    # inbound
    async def seen(self, key: str, now: datetime, window: timedelta) -> SeenSms:
        """The record of an inbound SMS with this content key received within window, or a
        new one. done=True: it was fully handled before (a redelivery)."""
        doc = await self._seen.find_one(
            {"key": key, "received_at": {"$gte": now - window}}, sort=[("received_at", -1)]
        )
        if doc is not None:
            return SeenSms(doc["_id"], bool(doc.get("done")))
        sms_id = new_id()
        await self._seen.insert_one({"_id": sms_id, "key": key, "received_at": now, "done": False})
        return SeenSms(sms_id, False)

    async def done(self, sms_id: str) -> None:
        await self._seen.update_one({"_id": sms_id}, {"$set": {"done": True}})

    async def add_part(self, group: str, index: int, total: int, text: str, at: datetime) -> None:
        await self._parts.update_one(
            {"_id": f"{group}:{index}"},
            {"$set": {"group": group, "index": index, "total": total, "text": text, "at": at}},
            upsert=True,
        )

    async def whole(self, group: str, total: int) -> str | None:
        """The assembled text once every part of group is stored."""
        parts = [d async for d in self._parts.find({"group": group}).sort("index", 1)]
        if len({p["index"] for p in parts}) < total:
            return None
        return "".join(p["text"] for p in parts)

    async def drop_parts(self, group: str) -> None:
        await self._parts.delete_many({"group": group})

    # opt-outs
    async def opt_out(self, phone: str, at: datetime) -> None:
        await self._optouts.update_one({"_id": phone}, {"$setOnInsert": {"at": at}}, upsert=True)

    async def opt_in(self, phone: str) -> None:
        await self._optouts.delete_one({"_id": phone})

    async def opted_out(self, phone: str) -> bool:
        return await self._optouts.count_documents({"_id": phone}, limit=1) > 0


def _to_doc(r: SmsRecord) -> dict[str, Any]:
    return {
        "_id": r.id,
        "to": r.to,
        "text": r.text,
        "purpose": r.purpose,
        "state": r.state,
        "created_at": r.created_at,
        "case_number": r.case_number,
        "message_id": r.message_id,
        "provider_ids": list(r.provider_ids),
        "segments": r.segments,
        "attempts": r.attempts,
        "error": r.error,
        "receipts": dict(r.receipts),
    }


def _from_doc(d: Mapping[str, Any]) -> SmsRecord:
    return SmsRecord(
        id=d["_id"],
        to=d["to"],
        text=d["text"],
        purpose=d["purpose"],
        state=d["state"],
        created_at=d["created_at"],
        case_number=d.get("case_number"),
        message_id=d.get("message_id"),
        provider_ids=tuple(d.get("provider_ids") or ()),
        segments=d.get("segments", 0),
        attempts=d.get("attempts", 0),
        error=d.get("error", ""),
        receipts=dict(d.get("receipts") or {}),
    )

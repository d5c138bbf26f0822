"""The SMS channel's records in MongoDB (channels.sms.records): outbound SMS with their
delivery state (notifications and conversation replies), which SMS each SMSC message id
stands for, inbound SMS already seen (SMPP has no message id to dedupe on), parts of
concatenated inbound SMS and opt-outs (退订).

`sms_ids` holds one document per SMSC (or HTTP provider) message id, `_id` = the id, pointing
at the segment of the SMS most recently submitted under it: a receipt is matched by primary
key, and an id the SMSC hands out again (after a restart) points at the new SMS only. (The
`provider_ids` array on sms_outbound cannot serve the lookup: the embedded database reads the
whole collection for a query inside an array, docs/embedded-database.md.) A receipt that
finds no submission is held on the same document. Every document expires with the validity
of a receipt (`expires_at`) and is purged after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne

from channels.sms.records import SeenSms, SmsRecord, Submission
from mongo.client import Database, insert_once
from primitives.ids import new_id


class MongoSmsRepository:  # channels.sms.records.SmsRepository
    def __init__(self, db: Database) -> None:
        self._out = db["sms_outbound"]
        self._seen = db["sms_inbound"]
        self._parts = db["sms_parts"]
        self._optouts = db["sms_optouts"]
        self._ids = db["sms_ids"]

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

    async def sent(
        self,
        sms_id: str,
        provider_ids: list[str],
        at: datetime,
        attempts: int,
        receipts: dict[int, str],
    ) -> None:
        changes = {
            "provider_ids": provider_ids,
            "sent_at": at,
            "error": "",
            "attempts": attempts,
            "receipts": _receipts_to_doc(receipts),
        }
        await self._out.update_one(
            {"_id": sms_id, "state": "pending"}, {"$set": {"state": "sent", **changes}}
        )

    async def add_receipt(self, sms_id: str, segment: int, stat: str) -> SmsRecord | None:
        """Note a segment's receipt on an SMS still awaiting receipts (state sent). The SMS
        with it; None when the SMS is final already (a receipt never changes that)."""
        doc = await self._out.find_one_and_update(
            {"_id": sms_id, "state": "sent"},
            {"$set": {f"receipts.{segment}": stat}},
            return_document=ReturnDocument.AFTER,
        )
        return _from_doc(doc) if doc else None

    async def settle(self, sms_id: str, state: str, error: str) -> bool:
        """Move an SMS awaiting receipts to its final state; False if it was final already."""
        result = await self._out.update_one(
            {"_id": sms_id, "state": "sent"}, {"$set": {"state": state, "error": error}}
        )
        return result.modified_count == 1

    # SMSC message ids
    async def record_ids(
        self, provider_ids: list[str], sms_id: str, at: datetime, expires_at: datetime
    ) -> dict[int, str]:
        """Point each id at its segment of sms_id, submitted at `at`, replacing whatever was
        submitted under it before. Returns the receipts already held for these ids that
        arrived since `at`: segment -> stat."""
        named = [(segment, pid) for segment, pid in enumerate(provider_ids) if pid]
        if not named:
            return {}
        await self._ids.bulk_write(
            [
                UpdateOne(
                    {"_id": pid},
                    {
                        "$set": {
                            "sms_id": sms_id,
                            "segment": segment,
                            "submitted_at": at,
                            "expires_at": expires_at,
                        }
                    },
                    upsert=True,
                )
                for segment, pid in named
            ],
            ordered=False,
        )
        held: dict[int, str] = {}
        ids = [pid for _, pid in named]
        cursor = self._ids.find({"_id": {"$in": ids}, "receipt": {"$exists": True}})
        async for doc in cursor:
            if doc["receipt"]["at"] >= doc["submitted_at"]:
                held[doc["segment"]] = doc["receipt"]["stat"]
        return held

    async def submission(self, provider_id: str, since: datetime) -> Submission | None:
        """What was last submitted under provider_id, if that was at or after since."""
        doc = await self._ids.find_one({"_id": provider_id})
        if doc is None or "sms_id" not in doc or doc["submitted_at"] < since:
            return None
        return Submission(doc["sms_id"], doc["segment"], doc["submitted_at"])

    async def hold_receipt(
        self, provider_id: str, stat: str, at: datetime, expires_at: datetime
    ) -> None:
        """Keep a receipt that matched no submission (yet)."""
        await self._ids.update_one(
            {"_id": provider_id},
            {"$set": {"receipt": {"stat": stat, "at": at}}, "$max": {"expires_at": expires_at}},
            upsert=True,
        )

    async def purge_ids(self, now: datetime) -> int:
        result = await self._ids.delete_many({"expires_at": {"$lte": now}})
        return result.deleted_count

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
        "receipts": _receipts_to_doc(r.receipts),
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
        receipts={int(k): v for k, v in (d.get("receipts") or {}).items()},
    )


def _receipts_to_doc(receipts: Mapping[int, str]) -> dict[str, str]:
    return {str(segment): stat for segment, stat in receipts.items()}

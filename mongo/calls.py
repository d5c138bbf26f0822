"""Call records (telephony/call_records.py): one document per call, keyed by the call id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from mongo.client import Database
from telephony.call_records import CallOutcome, CallQuery, CallRecord, CallRecordRepository

_DATES = ("started_at", "ended_at", "queued_at", "answered_at")


class MongoCallRecordRepository(CallRecordRepository):
    def __init__(self, db: Database) -> None:
        self._col = db["calls"]

    async def save(self, record: CallRecord) -> None:
        doc = asdict(record)
        doc["outcome"] = record.outcome.value
        doc["wait_s"], doc["talk_s"] = record.wait_s, record.talk_s  # for reports' sums
        call_id = doc.pop("call_id")
        await self._col.replace_one({"_id": call_id}, doc, upsert=True)

    async def get(self, call_id: str) -> CallRecord | None:
        doc = await self._col.find_one({"_id": call_id})
        return _record(doc) if doc else None

    async def search(self, query: CallQuery) -> list[CallRecord]:
        flt: dict[str, Any] = {}
        if query.caller:
            flt["caller"] = query.caller
        if query.agent:
            flt["agent"] = query.agent
        if query.since or query.until:
            flt["started_at"] = {
                **({"$gte": query.since} if query.since else {}),
                **({"$lt": query.until} if query.until else {}),
            }
        if query.with_recording:
            flt["recording"] = {"$ne": None}
        cursor = self._col.find(flt).sort("started_at", -1).limit(query.limit)
        return [_record(d) async for d in cursor]


def _record(d: Mapping[str, Any]) -> CallRecord:
    dates = {k: _aware(d.get(k)) for k in _DATES}
    return CallRecord(
        call_id=d["_id"],
        conversation_id=d["conversation_id"],
        customer_id=d["customer_id"],
        caller=d.get("caller", ""),
        dialed=d.get("dialed", ""),
        transport=d.get("transport", ""),
        started_at=dates["started_at"] or datetime.now(UTC),
        ended_at=dates["ended_at"],
        queue=d.get("queue"),
        queued_at=dates["queued_at"],
        answered_at=dates["answered_at"],
        agent=d.get("agent"),
        outcome=CallOutcome(d.get("outcome", "ivr")),
        survey=d.get("survey", ""),
        recording=d.get("recording"),
        case_number=d.get("case_number"),
    )


def _aware(value: Any) -> datetime | None:
    """BSON dates come back naive (UTC) unless the client is tz-aware."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)

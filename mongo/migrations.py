"""Bring a database written by an earlier hub up to the current schema.

Each step is idempotent and cheap when there is nothing to do (one indexed query), so it runs
at every start, before the indexes are ensured. Retired indexes are dropped first: a new
unique index cannot be built while old documents lack its key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne

from mongo.cases import case_from_document, case_text_document
from mongo.client import Database

log = logging.getLogger(__name__)

_BATCH = 500

# collection -> index names the current schema no longer has (or has with other options)
_RETIRED_INDEXES: dict[str, tuple[str, ...]] = {
    "messages": ("channel_external",),  # now the single-field unique "key"
    "customers": ("identity_unique",),  # now the customer_identities collection
    "canned_replies": ("owner_shortcut",),  # now the single-field unique "key"
    "sms_outbound": ("provider_ids",),  # receipts are matched through sms_ids
}
# Indexes whose name stays but which are no longer unique.
_NO_LONGER_UNIQUE: dict[str, tuple[str, ...]] = {"case_events": ("case_seq",)}


# Collections nothing reads any more.
_RETIRED_COLLECTIONS = (
    "login_failures",  # staff sign-in is throttled in memory now
    "sms_receipts",  # receipts are kept on their SMS, unmatched ones in sms_ids
)


async def migrate(db: Database) -> None:
    """Run every step; log what changed."""
    await _drop_retired_collections(db)
    await _drop_retired_indexes(db)
    await _backfill_message_keys(db)
    await _move_identity_keys(db)
    await _backfill_canned_reply_keys(db)
    await _move_case_events(db)
    await _backfill_case_text(db)


async def _drop_retired_collections(db: Database) -> None:
    names = set(await db.list_collection_names())
    for name in names.intersection(_RETIRED_COLLECTIONS):
        await db.drop_collection(name)
        log.info("migration.collection_dropped", extra={"collection": name})


async def _drop_retired_indexes(db: Database) -> None:
    names = set(await db.list_collection_names())
    for collection in names & (_RETIRED_INDEXES.keys() | _NO_LONGER_UNIQUE.keys()):
        info = await db[collection].index_information()
        for name in _RETIRED_INDEXES.get(collection, ()):
            if name in info:
                await db[collection].drop_index(name)
                log.info("migration.index_dropped", extra={"collection": collection, "index": name})
        for name in _NO_LONGER_UNIQUE.get(collection, ()):
            if info.get(name, {}).get("unique"):
                await db[collection].drop_index(name)
                log.info("migration.index_dropped", extra={"collection": collection, "index": name})


async def _backfill_message_keys(db: Database) -> None:
    col = db["messages"]
    cursor = col.find({"key": {"$exists": False}}, {"channel": 1, "external_id": 1})
    updates = [
        UpdateOne({"_id": d["_id"]}, {"$set": {"key": f"{d['channel']}:{d['external_id']}"}})
        async for d in cursor
    ]
    await _write(col, updates, "messages.key")


async def _move_identity_keys(db: Database) -> None:
    """Customers used to hold `identity_keys` under a unique multikey index."""
    customers = db["customers"]
    owners = db["customer_identities"]
    moved = 0
    async for doc in customers.find({"identity_keys": {"$exists": True}}):
        claims = [
            UpdateOne(
                {"_id": key},
                {"$setOnInsert": {"customer_id": doc["_id"], "at": datetime.now(UTC)}},
                upsert=True,
            )
            for key in doc.get("identity_keys") or []
        ]
        if claims:
            await owners.bulk_write(claims, ordered=False)
        await customers.update_one({"_id": doc["_id"]}, {"$unset": {"identity_keys": ""}})
        moved += 1
    if moved:
        log.info("migration.done", extra={"step": "customer_identities", "documents": moved})


async def _backfill_canned_reply_keys(db: Database) -> None:
    col = db["canned_replies"]
    cursor = col.find({"key": {"$exists": False}}, {"owner": 1, "shortcut": 1})
    updates = [
        UpdateOne({"_id": d["_id"]}, {"$set": {"key": f"{d.get('owner', '')}/{d['shortcut']}"}})
        async for d in cursor
    ]
    await _write(col, updates, "canned_replies.key")


async def _move_case_events(db: Database) -> None:
    """Cases used to carry their whole event list; the trail is `case_events` (each event was
    already copied there), the case keeps its last event."""
    col, trail = db["cases"], db["case_events"]
    moved = 0
    async for doc in col.find({"events": {"$exists": True}}, {"number": 1, "events": 1}):
        events = doc.get("events") or []
        copies = [
            UpdateOne(
                {"_id": f"{doc['number']}#{e['seq']:05d}"},
                {"$setOnInsert": e | {"case_number": doc["number"]}},
                upsert=True,
            )
            for e in events
        ]
        if copies:
            await trail.bulk_write(copies, ordered=False)
        await col.update_one(
            {"_id": doc["_id"]},
            {"$set": {"last_event": events[-1] if events else None}, "$unset": {"events": ""}},
        )
        moved += 1
    if moved:
        log.info("migration.done", extra={"step": "case_events", "documents": moved})


async def _backfill_case_text(db: Database) -> None:
    """Cases stored before free-text search matched on two-character pieces (mongo/cases.py)."""
    col, text = db["cases"], db["case_text"]
    done = 0
    async for doc in col.find({"text_indexed": {"$exists": False}}):
        entry = case_text_document(case_from_document(doc))
        await text.replace_one({"_id": entry.pop("_id")}, entry, upsert=True)
        await col.update_one({"_id": doc["_id"]}, {"$set": {"text_indexed": True}})
        done += 1
    if done:
        log.info("migration.done", extra={"step": "case_text", "documents": done})


async def _write(col: Any, updates: list[UpdateOne], step: str) -> None:
    for start in range(0, len(updates), _BATCH):
        await col.bulk_write(updates[start : start + _BATCH], ordered=False)
    if updates:
        log.info("migration.done", extra={"step": step, "documents": len(updates)})

"""Customers in MongoDB.

Who owns an identity is recorded in `customer_identities`, one document per identity whose
`_id` is the identity key ("phone:+86…"), so one identity has one owner by construction and
finding it is a primary-key read on any MongoDB-compatible server. (A unique index over an
array of keys on the customer would do the same on MongoDB, but the embedded database checks
such an index by reading every customer: docs/embedded-database.md.) The customer document
keeps a copy of its identities for display; the ownership record is the authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from mongo.client import Database, insert_once
from routing.customers import Customer, Identity
from routing.errors import AlreadyMerged, CustomerNotFound, IdentityTaken

# Collections whose documents carry a customer_id: a merge moves them to the survivor.
_HISTORY_COLLECTIONS = ("conversations", "messages", "cases")
IDENTITIES = "customer_identities"
_CLAIM_ATTEMPTS = 5
_MAX_MERGE_HOPS = 10


class MongoCustomerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._col = db["customers"]
        self._owners = db[IDENTITIES]

    async def get(self, customer_id: str) -> Customer:
        doc = await self._follow(customer_id)
        return _customer_from_doc(doc)

    async def find_by_identity(self, identity: Identity) -> Customer | None:
        owner = await self._owners.find_one({"_id": identity.key}, {"customer_id": 1})
        if owner is None:
            return None
        return _customer_from_doc(await self._follow(owner["customer_id"]))

    async def get_or_create(self, identity: Identity, *, name: str = "") -> Customer:
        for _ in range(_CLAIM_ATTEMPTS):
            found = await self.find_by_identity(identity)
            if found is not None:
                return found
            # The customer first, then the claim: a crash in between leaves a customer that
            # nothing points to, never an identity pointing at nothing.
            doc = _new_doc(identity, name)
            await self._col.insert_one(doc)
            if await insert_once(self._owners, _owner_doc(identity, doc["_id"])):
                return _customer_from_doc(doc)
            # Two first messages of one person raced and the other claim won.
            await self._col.delete_one({"_id": doc["_id"]})
        raise IdentityTaken(str(identity), "?")

    async def add_identity(self, customer_id: str, identity: Identity) -> Customer:
        target = await self._follow(customer_id)
        if not await insert_once(self._owners, _owner_doc(identity, target["_id"])):
            owner = await self.find_by_identity(identity)
            if owner is None or owner.id != target["_id"]:
                raise IdentityTaken(str(identity), owner.id if owner else "?")
        doc = await self._col.find_one_and_update(
            {"_id": target["_id"]},
            {"$addToSet": {"identities": _identity_to_doc(identity)}},
            return_document=ReturnDocument.AFTER,
        )
        return _customer_from_doc(doc)

    async def set_tags(self, customer_id: str, tags: frozenset[str]) -> Customer:
        target = await self._follow(customer_id)
        doc = await self._col.find_one_and_update(
            {"_id": target["_id"]},
            {"$set": {"tags": sorted(tags)}},
            return_document=ReturnDocument.AFTER,
        )
        return _customer_from_doc(doc)

    async def set_name(self, customer_id: str, name: str) -> Customer:
        target = await self._follow(customer_id)
        doc = await self._col.find_one_and_update(
            {"_id": target["_id"]}, {"$set": {"name": name}}, return_document=ReturnDocument.AFTER
        )
        return _customer_from_doc(doc)

    async def merge(self, source_id: str, into_id: str) -> Customer:
        """Merge source into into. Resumable: every step is idempotent and the identities
        still to move are recorded on the source first, so a crash mid-merge is finished by
        calling merge again (meanwhile lookups already reach into through merged_into)."""
        into = await self._follow(into_id)
        source = await self._col.find_one({"_id": source_id})
        if source is None:
            raise CustomerNotFound(source_id)
        if source["_id"] == into["_id"]:
            return _customer_from_doc(into)
        if source.get("merged_into") not in (None, into["_id"]):
            raise AlreadyMerged(source_id, source["merged_into"])
        pending = source.get("pending_identities") or source.get("identities", [])
        await self._col.update_one(
            {"_id": source_id},
            {"$set": {"merged_into": into["_id"], "pending_identities": pending}},
        )
        await self._owners.update_many(
            {"customer_id": source_id}, {"$set": {"customer_id": into["_id"]}}
        )
        await self._col.update_one(
            {"_id": into["_id"]},
            {
                "$addToSet": {
                    "identities": {"$each": pending},
                    "tags": {"$each": source.get("tags", [])},
                    "merged_from": source_id,
                }
            },
        )
        await self._col.update_one({"_id": source_id}, {"$set": {"identities": []}})
        for name in _HISTORY_COLLECTIONS:
            await self._db[name].update_many(
                {"customer_id": source_id}, {"$set": {"customer_id": into["_id"]}}
            )
        await self._col.update_one({"_id": source_id}, {"$unset": {"pending_identities": ""}})
        return await self.get(into["_id"])

    async def _follow(self, customer_id: str) -> dict[str, Any]:
        """The customer document, following merged_into to the surviving customer."""
        current = customer_id
        for _ in range(_MAX_MERGE_HOPS):
            doc = await self._col.find_one({"_id": current})
            if doc is None:
                raise CustomerNotFound(customer_id)
            if not doc.get("merged_into"):
                return doc
            current = doc["merged_into"]
        raise CustomerNotFound(customer_id)


def _key(identity_doc: Mapping[str, Any]) -> str:
    return f"{identity_doc['kind']}:{identity_doc['value']}"


def _identity_to_doc(identity: Identity) -> dict[str, str]:
    return {"kind": identity.kind.value, "value": identity.value}


def _owner_doc(identity: Identity, customer_id: str) -> dict[str, Any]:
    return {"_id": identity.key, "customer_id": customer_id, "at": datetime.now(UTC)}


def _new_doc(identity: Identity, name: str) -> dict[str, Any]:
    return {
        "_id": str(ObjectId()),
        "name": name,
        "identities": [_identity_to_doc(identity)],
        "tags": [],
        "created_at": datetime.now(UTC),
    }


def _customer_from_doc(doc: Mapping[str, Any]) -> Customer:
    return Customer(
        id=doc["_id"],
        name=doc.get("name", ""),
        identities=tuple(Identity.from_key(_key(d)) for d in doc.get("identities", [])),
        tags=frozenset(doc.get("tags", [])),
        created_at=doc["created_at"],
        merged_into=doc.get("merged_into"),
        merged_from=tuple(doc.get("merged_from", [])),
    )

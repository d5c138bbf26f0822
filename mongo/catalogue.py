"""The dispatch catalogue in MongoDB: one document per category code, which is its _id."""

from __future__ import annotations

from typing import Any

from cases.catalogue import CatalogueEntry
from mongo.client import Database


class MongoCatalogueRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["dispatch_catalogue"]

    async def all(self) -> list[CatalogueEntry]:
        return [_from_doc(d) async for d in self._col.find({}).sort("_id", 1)]

    async def upsert(self, entry: CatalogueEntry) -> None:
        await self._col.replace_one({"_id": entry.category}, _to_doc(entry), upsert=True)

    async def delete(self, category: str) -> bool:
        return (await self._col.delete_one({"_id": category})).deleted_count == 1


def _to_doc(e: CatalogueEntry) -> dict[str, Any]:
    return {
        "_id": e.category,
        "lead": e.lead,
        "assisting": list(e.assisting),
        "due_days": e.due_days,
    }


def _from_doc(d: dict[str, Any]) -> CatalogueEntry:
    return CatalogueEntry(d["_id"], d["lead"], tuple(d.get("assisting", ())), d.get("due_days"))

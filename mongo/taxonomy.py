"""The category taxonomy in MongoDB: one document holding the whole tree.

A few hundred small nodes, read at start and edited rarely: one document means one write
per edit and an atomic, version-checked replace (two admins editing at once cannot
silently overwrite each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cases.taxonomy import Category
from mongo.client import Database
from primitives.errors import StaleWrite

_DOC_ID = "taxonomy"


class MongoTaxonomyRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["taxonomy"]

    async def all(self) -> list[Category]:
        doc = await self._col.find_one({"_id": _DOC_ID})
        return [_from_doc(d) for d in doc["categories"]] if doc else []

    async def version(self) -> int:
        doc = await self._col.find_one({"_id": _DOC_ID}, {"version": 1})
        return int(doc["version"]) if doc else 0

    async def upsert(self, category: Category) -> None:
        doc = await self._col.find_one({"_id": _DOC_ID})
        current = {c["code"]: c for c in (doc["categories"] if doc else [])}
        current[category.code] = _to_doc(category)
        await self._write(list(current.values()), int(doc["version"]) if doc else 0)

    async def replace_all(self, categories: Sequence[Category]) -> None:
        """Store categories; codes no longer listed stay, deactivated (old cases use them)."""
        doc = await self._col.find_one({"_id": _DOC_ID})
        merged = {c["code"]: {**c, "active": False} for c in (doc["categories"] if doc else [])}
        merged.update({c.code: _to_doc(c) for c in categories})
        await self._write(list(merged.values()), int(doc["version"]) if doc else 0)

    async def _write(self, categories: list[dict[str, Any]], version: int) -> None:
        categories.sort(key=lambda c: c["code"])
        body = {"categories": categories, "version": version + 1}
        if version == 0:
            await self._col.update_one(
                {"_id": _DOC_ID, "version": {"$exists": False}}, {"$set": body}, upsert=True
            )
            return
        result = await self._col.update_one({"_id": _DOC_ID, "version": version}, {"$set": body})
        if result.matched_count == 0:
            raise StaleWrite("the taxonomy", version)


def _to_doc(c: Category) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "parent": c.parent,
        "level": c.level,
        "active": c.active,
    }


def _from_doc(d: Mapping[str, Any]) -> Category:
    return Category(
        d["code"], d["name"], d.get("parent"), int(d["level"]), bool(d.get("active", True))
    )

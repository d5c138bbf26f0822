"""The category taxonomy in MongoDB."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ReplaceOne

from mongo.client import Database
from routing.taxonomy import Category


class MongoTaxonomyRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["taxonomy"]

    async def all(self) -> list[Category]:
        return [_from_doc(d) async for d in self._col.find({}).sort("code", 1)]

    async def upsert(self, category: Category) -> None:
        await self._col.replace_one({"code": category.code}, _to_doc(category), upsert=True)

    async def replace_all(self, categories: Sequence[Category]) -> None:
        """Upsert every category (one bulk write); codes no longer listed are deactivated."""
        if categories:
            await self._col.bulk_write(
                [ReplaceOne({"code": c.code}, _to_doc(c), upsert=True) for c in categories],
                ordered=False,
            )
        codes = [c.code for c in categories]
        await self._col.update_many({"code": {"$nin": codes}}, {"$set": {"active": False}})


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

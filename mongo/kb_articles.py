"""Knowledge-base articles in MongoDB (collection kb_articles, _id = article id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kb.articles import Article, article_from_mapping, article_to_mapping
from kb.errors import ArticleNotFound
from mongo.client import Database, count


class MongoArticleRepository:
    def __init__(self, db: Database) -> None:
        self._col = db["kb_articles"]

    async def all(self) -> list[Article]:
        return [_from_doc(d) async for d in self._col.find({}).sort("_id", 1)]

    async def get(self, article_id: str) -> Article:
        doc = await self._col.find_one({"_id": article_id})
        if doc is None:
            raise ArticleNotFound(article_id)
        return _from_doc(doc)

    async def upsert(self, article: Article) -> None:
        doc = article_to_mapping(article)
        doc.pop("id")
        await self._col.replace_one({"_id": article.id}, doc, upsert=True)

    async def add_many(self, articles: list[Article]) -> None:
        """Insert new articles in one round trip (seeding an empty store)."""
        if articles:
            docs = [{**article_to_mapping(a), "_id": a.id} for a in articles]
            for doc in docs:
                doc.pop("id")
            await self._col.insert_many(docs, ordered=False)

    async def delete(self, article_id: str) -> None:
        result = await self._col.delete_one({"_id": article_id})
        if result.deleted_count == 0:
            raise ArticleNotFound(article_id)

    async def count(self) -> int:
        return await count(self._col, {})


def _from_doc(doc: Mapping[str, Any]) -> Article:
    return article_from_mapping({**doc, "id": doc["_id"]})

"""The knowledge base's record in MongoDB: seeding from the shipped file, import and export.

The stored articles are the truth the running hub indexes; the shipped YAML only seeds an
empty database (`hub demo`, first start) and files move articles in and out (`hub kb …`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hub.progress import track
from kb.articles import Article, load_yaml, read_xlsx, write_xlsx, write_yaml
from kb.errors import InvalidArticles
from mongo.client import Database
from mongo.kb_articles import MongoArticleRepository

log = logging.getLogger(__name__)

XLSX_SUFFIXES = (".xlsx", ".xlsm")


def read_articles(path: Path) -> list[Article]:
    """Articles from a YAML or XLSX file; raises InvalidArticles naming bad rows."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        return read_xlsx(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_yaml(path)
    raise InvalidArticles(str(path), ["use a .yaml, .yml or .xlsx file"])


def write_articles(path: Path, articles: list[Article]) -> None:
    if path.suffix.lower() in XLSX_SUFFIXES:
        write_xlsx(path, articles)
    elif path.suffix.lower() in (".yaml", ".yml"):
        write_yaml(path, articles)
    else:
        raise InvalidArticles(str(path), ["use a .yaml, .yml or .xlsx file"])


async def seed_if_empty(db: Database, seed: Path) -> int:
    """Fill an empty article store from `seed` (the shipped YAML); the number added."""
    repo = MongoArticleRepository(db)
    if await repo.count():
        return 0
    articles = await asyncio.to_thread(read_articles, seed)
    await repo.add_many(articles)
    log.info("kb.seeded", extra={"articles": len(articles), "source": seed.name})
    return len(articles)


async def import_articles(db: Database, path: Path, replace: bool) -> dict[str, int]:
    """Upsert every article of the file (all validated first: a bad file changes nothing).
    With replace, stored articles missing from the file are deleted."""
    articles = await asyncio.to_thread(read_articles, path)
    repo = MongoArticleRepository(db)
    before = {a.id: a for a in await repo.all()}
    created = updated = deleted = 0
    for article in track(articles, "导入知识库", "篇"):
        if article.id not in before:
            created += 1
        elif before[article.id] != article:
            updated += 1
        else:
            continue
        await repo.upsert(article)
    if replace:
        keep = {a.id for a in articles}
        for article_id in before.keys() - keep:
            await repo.delete(article_id)
            deleted += 1
    return {"created": created, "updated": updated, "deleted": deleted, "total": len(articles)}


async def export_articles(db: Database, path: Path) -> int:
    articles = sorted(await MongoArticleRepository(db).all(), key=lambda a: a.id)
    await asyncio.to_thread(write_articles, path, articles)
    return len(articles)

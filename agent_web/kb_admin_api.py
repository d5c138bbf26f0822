"""Knowledge-base editing for admins and supervisors: list, create/update, delete articles.

GET    /api/v1/admin/kb/articles?q=&offset=&limit=   {"articles": [...], "total"}
PUT    /api/v1/admin/kb/articles/{id}                 the article's fields (id from the path)
DELETE /api/v1/admin/kb/articles/{id}

An edit is stored first, then indexed in place (only that article is embedded again): the
bot answers with it from the next message on, no restart or rebuild.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web

from agent_web.auth import Caller, refusal, requires
from agent_web.json_input import read_json
from agent_web.keys import KNOWLEDGE_BASE
from kb.articles import Article, article_from_mapping, article_to_mapping
from kb.errors import ArticleNotFound, InvalidArticles
from kb.service import KnowledgeBase
from routing.agents import Role

log = logging.getLogger(__name__)

ARTICLE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
PAGE = 50


def _kb(request: web.Request) -> KnowledgeBase:
    kb = request.app.get(KNOWLEDGE_BASE)
    if kb is None:
        raise refusal(503, "kb_unavailable", "知识库未加载")
    return kb


def _matches(article: Article, needle: str) -> bool:
    fields = (article.id, article.question, article.answer, *article.similar, *article.keywords)
    return any(needle in f.lower() for f in (*fields, *article.category))


@requires(Role.ADMIN, Role.SUPERVISOR)
async def list_articles(request: web.Request, me: Caller) -> web.Response:
    kb = _kb(request)
    needle = request.query.get("q", "").strip().lower()[:100]
    try:
        offset = max(0, int(request.query.get("offset", "0")))
        limit = min(200, max(1, int(request.query.get("limit", str(PAGE)))))
    except ValueError:
        raise refusal(400, "bad_request", "offset and limit must be integers") from None
    found = sorted(
        (a for a in kb.articles() if not needle or _matches(a, needle)), key=lambda a: a.id
    )
    page = [article_to_mapping(a) for a in found[offset : offset + limit]]
    return web.json_response({"articles": page, "total": len(found)})


@requires(Role.ADMIN, Role.SUPERVISOR)
async def put_article(request: web.Request, me: Caller) -> web.Response:
    kb = _kb(request)
    article_id = request.match_info["article_id"]
    if not ARTICLE_ID.match(article_id):
        raise refusal(400, "bad_request", "article id: 1–64 letters, digits, _ . or -")
    body: dict[str, Any] = await read_json(request)
    try:
        article = article_from_mapping({**body, "id": article_id})
        created = article_id not in {a.id for a in kb.articles()}
        await kb.upsert(article)
    except (InvalidArticles, ValueError) as e:
        raise refusal(400, "invalid_article", str(e)) from None
    log.info("kb.article_saved", extra={"article": article_id, "by": me.login})
    return web.json_response(
        {"article": article_to_mapping(article)}, status=201 if created else 200
    )


@requires(Role.ADMIN, Role.SUPERVISOR)
async def delete_article(request: web.Request, me: Caller) -> web.Response:
    kb = _kb(request)
    article_id = request.match_info["article_id"]
    try:
        await kb.delete(article_id)
    except ArticleNotFound:
        raise refusal(404, "not_found", f"没有编号为 {article_id} 的知识") from None
    log.info("kb.article_removed", extra={"article": article_id, "by": me.login})
    return web.json_response({"deleted": article_id})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/kb/articles", list_articles)
    app.router.add_put("/api/v1/admin/kb/articles/{article_id}", put_article)
    app.router.add_delete("/api/v1/admin/kb/articles/{article_id}", delete_article)

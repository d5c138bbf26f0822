"""Admins and supervisors edit the knowledge base; the bot answers with an edit at once."""

from pathlib import Path

import pytest

from agent_web.keys import KNOWLEDGE_BASE
from hub.bot import NluKbBot
from kb.embedder import DEFAULT_EMBEDDER, make_embedder
from kb.service import KnowledgeBase
from kb.thresholds import load_profile
from mongo.client import Database
from mongo.kb_articles import MongoArticleRepository
from nlu.embedded import EmbeddedConfig, EmbeddedParser
from tests.agent_web.conftest import Hub, MakeHub
from tests.kb.conftest import ARTICLES

ARTICLES_PATH = "/api/v1/admin/kb/articles"
TINY_NLU = Path(__file__).parents[1] / "data" / "nlu" / "tiny.yml"
NEW = {
    "category": ["交通出行", "公交"],
    "question": "公交卡丢了怎么挂失？",
    "similar": ["交通卡掉了怎么办", "公交卡遗失了去哪挂失"],
    "answer": "请拨打公交集团客服热线挂失，7个工作日后到服务网点补卡。",
    "keywords": ["公交卡", "挂失"],
}


@pytest.fixture
async def kb_hub(make_hub: MakeHub, db: Database, tmp_path: Path) -> tuple[Hub, KnowledgeBase]:
    repo = MongoArticleRepository(db)
    await repo.add_many(list(ARTICLES))
    embedder = make_embedder(DEFAULT_EMBEDDER)
    kb = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    await kb.load(repo)
    parser = EmbeddedParser.from_file(TINY_NLU, EmbeddedConfig(semantic=False))
    hub = await make_hub(
        bot=NluKbBot(parser, kb), setup=lambda app: app.__setitem__(KNOWLEDGE_BASE, kb)
    )
    return hub, kb


async def test_an_admin_adds_an_article_and_the_bot_answers_with_it(kb_hub, db: Database):
    hub, _ = kb_hub
    admin = await hub.staff("admin")
    listed = await admin.json("GET", ARTICLES_PATH)
    assert listed["total"] == len(ARTICLES)
    saved = await admin.json("PUT", f"{ARTICLES_PATH}/kb-0200", NEW, status=201)
    assert saved["article"]["id"] == "kb-0200"
    assert (await MongoArticleRepository(db).get("kb-0200")).question == NEW["question"]
    reply = await hub.customer("kb-visitor", "我的公交卡丢了怎么挂失")
    assert reply["replies"][0]["kb_article_id"] == "kb-0200"
    found = await admin.json("GET", f"{ARTICLES_PATH}?q=挂失")
    assert [a["id"] for a in found["articles"]] == ["kb-0200"]


async def test_a_supervisor_edits_and_deletes(kb_hub, db: Database):
    hub, kb = kb_hub
    supervisor = await hub.staff("super")
    changed = {**NEW, "question": "身份证丢了怎么补办？", "answer": "新的补办说明。"}
    await supervisor.json("PUT", f"{ARTICLES_PATH}/kb-0015", changed)
    assert kb.get("kb-0015").answer == "新的补办说明。"
    await supervisor.json("DELETE", f"{ARTICLES_PATH}/kb-0015")
    assert "kb-0015" not in {a.id for a in await MongoArticleRepository(db).all()}
    missing = await supervisor.call("DELETE", f"{ARTICLES_PATH}/kb-0015")
    assert missing.status == 404


async def test_bad_articles_and_roles_are_refused(kb_hub):
    hub, _ = kb_hub
    admin = await hub.staff("admin")
    no_answer = await admin.call("PUT", f"{ARTICLES_PATH}/kb-0300", {**NEW, "answer": ""})
    assert no_answer.status == 400
    assert (await no_answer.json())["error"] == "invalid_article"
    bad_id = await admin.call("PUT", f"{ARTICLES_PATH}/bad%20id", NEW)
    assert bad_id.status == 400
    agent = await hub.staff("agent1")
    assert (await agent.get(ARTICLES_PATH)).status == 403
    assert (await agent.call("PUT", f"{ARTICLES_PATH}/kb-0300", NEW)).status == 403


async def test_without_a_knowledge_base_the_api_says_so(hub: Hub):
    admin = await hub.staff("admin")
    resp = await admin.get(ARTICLES_PATH)
    assert resp.status == 503
    assert (await resp.json())["reason"] == "知识库未加载"

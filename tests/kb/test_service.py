from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kb.articles import Article
from kb.decision import KbDecision
from kb.embedder import Embedder
from kb.errors import ArticleNotFound, InvalidArticles
from kb.service import EMBED_QUERY_CHARS, KnowledgeBase
from kb.thresholds import load_profile
from tests.kb.conftest import ARTICLES


async def test_a_paraphrase_finds_its_article(small_kb: KnowledgeBase):
    result = await small_kb.query("娃刚生下来，医疗保险咋弄")
    assert result.best is not None
    assert result.best.article.id == "kb-0001"
    assert result.decision is KbDecision.ANSWER
    assert "90天内" in result.answer_text


async def test_empty_text_is_not_a_question(small_kb: KnowledgeBase):
    result = await small_kb.query("   ")
    assert result.decision is KbDecision.NONE
    assert result.hits == []


async def test_an_upsert_changes_answers_without_a_rebuild(small_kb: KnowledgeBase):
    new = Article(
        "kb-0200",
        ("交通出行", "公交"),
        "公交卡丢了怎么挂失？",
        ("交通卡掉了怎么办", "公交卡遗失挂失"),
        "拨打公交集团客服热线挂失，7个工作日后补卡。",
        ("公交卡",),
    )
    await small_kb.upsert(new)
    assert (await small_kb.query("我的交通卡掉了")).best.article.id == "kb-0200"
    changed = replace(new, answer="请到公交集团服务网点办理挂失。")
    await small_kb.upsert(changed)
    assert small_kb.get("kb-0200").answer.startswith("请到")
    await small_kb.delete("kb-0200")
    hits = (await small_kb.query("我的交通卡掉了")).hits
    assert all(h.article.id != "kb-0200" for h in hits)
    with pytest.raises(ArticleNotFound):
        await small_kb.delete("kb-0200")


async def test_an_article_without_an_answer_is_refused(small_kb: KnowledgeBase):
    with pytest.raises(InvalidArticles):
        await small_kb.upsert(replace(ARTICLES[0], id="kb-0300", answer=""))
    with pytest.raises(ArticleNotFound):
        small_kb.get("kb-0300")


async def test_a_thing_no_article_mentions_is_named_in_the_result(small_kb: KnowledgeBase):
    """车船税 appears in no article: the result names it, whatever article ranks best; people,
    times, quantities and words the articles use are not such things."""
    result = await small_kb.query("那车船税呢，在哪交")
    assert result.novel_terms == ("车船税",)
    assert (await small_kb.query("我老伴的身份证丢了，晚点去补行不行")).novel_terms == ()
    assert (await small_kb.query("补一个要几块钱")).novel_terms == ()
    assert (await small_kb.query("她身体不好，单位能代办吗")).novel_terms == ()  # everyday nouns
    # an upsert teaches the knowledge base the word
    taxes = Article(
        "kb-0201",
        ("交通出行", "车辆"),
        "车船税在哪交？",
        ("车船税怎么交",),
        "投保交强险时代缴。",
        (),
    )
    await small_kb.upsert(taxes)
    assert (await small_kb.query("那车船税呢，在哪交")).novel_terms == ()
    await small_kb.delete("kb-0201")
    assert (await small_kb.query("那车船税呢，在哪交")).novel_terms == ("车船税",)


async def test_an_answer_carries_what_its_article_mentions(small_kb: KnowledgeBase):
    """The query's things (novel or not) and the answered article's words: the router reads
    whether the article it would repeat ever mentions what a follow-up names."""
    result = await small_kb.query("那车船税呢，在哪交")
    assert "车船税" in result.terms
    answered = await small_kb.query(ARTICLES[0].question)
    assert answered.best is not None
    assert answered.best_mentions
    assert "车船税" not in answered.best_mentions
    assert all(w in answered.best_mentions for w in answered.terms)


def test_search_marks_exact_words(small_kb: KnowledgeBase):
    hits = small_kb.search("停水")
    assert hits[0].article_id == "kb-0040"
    assert hits[0].match == "exact"
    assert any("<mark>停水</mark>" in f for f in hits[0].fragments)


def test_search_finds_homophone_typos_by_pinyin(small_kb: KnowledgeBase):
    hits = small_kb.search("医宝")  # yi bao: typed for 医保
    assert hits
    assert hits[0].article_id == "kb-0001"
    assert hits[0].match == "pinyin"
    assert any("<mark>医保</mark>" in f for f in hits[0].fragments)


async def test_search_fragments_escape_article_html(small_kb: KnowledgeBase):
    await small_kb.upsert(
        replace(ARTICLES[1], id="kb-0041", answer="停水公告<script>alert(1)</script>见网站")
    )
    fragments = [f for h in small_kb.search("停水公告") for f in h.fragments]
    assert not any("<script>" in f for f in fragments)
    assert any("&lt;script&gt;" in f for f in fragments)


def test_vectors_are_cached_between_builds(embedder: Embedder, tmp_path: Path):
    first = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    first.build(list(ARTICLES))
    cached = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert cached
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    again = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    again.build(list(ARTICLES))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps
    assert again.query_sync("身份证掉了").best.article.id == "kb-0015"


class RecordingEmbedder:
    """The real embedder, recording the query texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.queries: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.embed_passages(texts)


async def test_a_long_question_is_embedded_by_its_start_only(embedder: Embedder, tmp_path: Path):
    recording = RecordingEmbedder(embedder)
    kb = KnowledgeBase(recording, load_profile(None, embedder.name), cache_root=tmp_path)
    kb.build(list(ARTICLES))
    await kb.query("新生儿医保怎么办理？" + "请尽快回复，谢谢。" * 200)
    assert recording.queries
    assert max(len(q) for q in recording.queries) <= EMBED_QUERY_CHARS

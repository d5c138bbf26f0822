"""The shipped knowledge base with its calibrated thresholds (hub/data/kb/thresholds.yaml)."""

from pathlib import Path

import pytest

from kb.articles import load_yaml
from kb.decision import KbDecision
from kb.embedder import Embedder
from kb.service import KnowledgeBase
from kb.thresholds import DEFAULT_PATH, load_profile

SHIPPED = Path(__file__).resolve().parents[2] / "hub" / "data" / "kb" / "articles.yaml"


@pytest.fixture(scope="module")
def shipped(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    kb = KnowledgeBase(
        embedder,
        load_profile(DEFAULT_PATH, embedder.name),
        cache_root=tmp_path_factory.mktemp("kb-cache"),
    )
    kb.build(load_yaml(SHIPPED))
    return kb


def test_the_shipped_profile_is_calibrated_for_the_default_embedder(embedder: Embedder):
    profile = load_profile(DEFAULT_PATH, embedder.name)
    assert "calibrated" in profile.note
    assert 0.0 < profile.answer_at < 1.0


def test_a_citizen_question_is_answered(shipped: KnowledgeBase):
    result = shipped.query_sync("孩子出生证明拿到了，下一步怎么去派出所给他上户口")
    assert result.decision is KbDecision.ANSWER
    assert result.best.article.id == "kb-0014"


def test_a_close_runner_up_offers_the_right_article_first(shipped: KnowledgeBase):
    """kb-0073 (预约保洁) leads its runner-up by less than the calibrated clarify_margin, sure
    as the abstainer is: the citizen gets buttons, the right article first, instead of a
    possibly wrong answer."""
    result = shipped.query_sync("想请个保洁阿姨上门打扫，一个钟头多少钱")
    assert result.decision is KbDecision.CLARIFY
    assert result.confidence >= shipped.profile.answer_at  # the margin decided, not p
    assert result.choices[0] == result.best.article.question
    assert result.best.article.id == "kb-0073"


@pytest.mark.parametrize("query", ["今天天气怎么样", "帮我写一首诗", "股票明天会涨吗"])
def test_out_of_scope_questions_are_handed_over(shipped: KnowledgeBase, query: str):
    assert shipped.query_sync(query).decision is KbDecision.NONE


@pytest.mark.parametrize("query", ["身份证", "公积金"])
def test_a_bare_topic_offers_three_choices(shipped: KnowledgeBase, query: str):
    result = shipped.query_sync(query)
    assert result.decision is KbDecision.CLARIFY
    assert len(result.choices) == 3
    assert result.clarify_text.startswith("您是想问")

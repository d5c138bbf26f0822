"""A small knowledge base with the real default embedder: cheap to build, real behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.articles import Article
from kb.embedder import DEFAULT_EMBEDDER, Embedder, make_embedder
from kb.service import KnowledgeBase
from kb.thresholds import load_profile

ARTICLES = [
    Article(
        "kb-0001",
        ("社保医保", "医疗保险"),
        "新生儿医保怎么办理？",
        ("刚出生的宝宝怎么参加医保", "孩子出生后医保去哪里办", "新生儿怎么参保"),
        "新生儿在出生后90天内办理居民医保参保登记，可在“12345”公众号或社区服务中心办理。",
        ("新生儿", "医保"),
    ),
    Article(
        "kb-0040",
        ("供水用水", "停水"),
        "停水了怎么查询原因？",
        ("家里没水了怎么办", "小区突然停水找谁", "计划停水通知在哪看"),
        "计划停水会提前24小时在小区公告栏和自来水公司网站发布；突发停水请拨打供水热线。",
        ("停水", "自来水"),
    ),
    Article(
        "kb-0015",
        ("户籍证件", "身份证"),
        "身份证丢了怎么补办？",
        ("身份证掉了怎么办", "补办身份证要带什么", "身份证遗失去哪补"),
        "身份证遗失可到户籍所在地或任一派出所办证窗口申请补领，需本人到场采集照片。",
        ("身份证", "补办"),
    ),
    Article(
        "kb-0016",
        ("户籍证件", "身份证"),
        "身份证到期怎么换领？",
        ("身份证过期了怎么换", "换身份证在哪里办", "身份证有效期满了"),
        "身份证有效期满前三个月可申请换领，携带旧证到派出所办理。",
        ("身份证", "换领"),
    ),
]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return make_embedder(DEFAULT_EMBEDDER)


@pytest.fixture
def small_kb(embedder: Embedder, tmp_path: Path) -> KnowledgeBase:
    kb = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    kb.build(list(ARTICLES))
    return kb

"""`hub eval kb` shows progress through hooks: every query passes the caller's progress once,
in order, the index is built with the caller's embedder wrapper, and the figures are the same."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import yaml

from kb.articles import write_yaml
from kb.embedder import DEFAULT_EMBEDDER, Embedder
from kb.evaluation import evaluate, run_eval
from kb.queries import LabelledQuery
from kb.service import KnowledgeBase
from tests.fakes.progress import Counting
from tests.kb.conftest import ARTICLES

T = TypeVar("T")
QUERIES = [
    LabelledQuery("孩子出生后医保去哪里办", "kb-0001"),
    LabelledQuery("小区突然停水找谁", "kb-0040"),
    LabelledQuery("明天会下雨吗", None),
]
TIMINGS = {"p50_ms", "p99_ms"}  # wall time: differs from run to run


class Wrapped:
    """An embedder wrapper that counts the passages it embeds (the index build)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.passages = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def _without_timings(result: dict[str, float | int]) -> dict[str, float | int]:
    return {k: v for k, v in result.items() if k not in TIMINGS}


def test_evaluate_passes_every_query_through_progress_once(small_kb: KnowledgeBase):
    counting = Counting()
    result = evaluate(small_kb, QUERIES, progress=counting)
    assert counting.calls == 1
    assert counting.seen == QUERIES
    assert _without_timings(result) == _without_timings(evaluate(small_kb, QUERIES))


def test_run_eval_hands_its_hooks_the_queries_and_the_embedder(tmp_path: Path):
    kb_data = tmp_path / "articles.yaml"
    write_yaml(kb_data, ARTICLES)
    queries_file = tmp_path / "queries.yaml"
    queries_file.write_text(
        yaml.safe_dump([{"query": q.query, "expected": q.expected} for q in QUERIES]),
        encoding="utf-8",
    )
    counting, wrappers = Counting(), []

    def wrap(embedder: Embedder) -> Embedder:
        wrappers.append(Wrapped(embedder))
        return wrappers[-1]

    result = run_eval(
        queries_file,
        kb_data=kb_data,
        embedder_spec=DEFAULT_EMBEDDER,
        cache_root=tmp_path / "cache",
        progress=counting,
        wrap_embedder=wrap,
    )
    assert result["n"] == len(QUERIES)
    assert counting.seen == QUERIES
    (wrapped,) = wrappers
    assert wrapped.passages > 0  # the index was built through the wrapper

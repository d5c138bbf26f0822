"""Measure retrieval and the answer/clarify/none decision on a labelled query set.

    hub eval kb --queries FILE --json   (wired by hub/cli.py to run_eval)

hit@k and MRR count only queries with an expected article; "abstain" means the decision was
clarify or none. Abstain precision: of the queries we abstained on, the share that had no
answer in the KB; abstain recall: of the queries with no answer, the share we abstained on.
Decision figures: answer_rate and wrong_answer_rate (answered with another article) over the
answerable queries, clarify_rate and clarify_hit (the expected article among the choices
offered) over the answerable ones too, out_of_kb_abstain_rate and out_of_kb_clarify_rate over
the out-of-KB ones.
Latency is wall time per query, query embedding included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from kb.articles import load_yaml
from kb.decision import CLARIFY_CHOICES, KbDecision
from kb.embedder import Embedder, make_embedder
from kb.queries import LabelledQuery, load_queries
from kb.service import KnowledgeBase
from kb.thresholds import load_profile

DEFAULT_KB = Path(__file__).resolve().parent.parent / "hub" / "data" / "kb" / "articles.yaml"
_RANKS = 10  # hits fetched per query for hit@k / MRR

# Hooks for the caller's progress display (the hub's terminal bars); kb/ prints nothing itself.
# Progress gets the queries and yields them back one by one, as it shows them done.
Progress = Callable[[Sequence[LabelledQuery]], Iterable[LabelledQuery]]
WrapEmbedder = Callable[[Embedder], Embedder]


def run_eval(
    queries_file: Path,
    *,
    kb_data: Path,
    embedder_spec: str,
    thresholds: Path | None = None,
    cache_root: Path | None = None,
    progress: Progress | None = None,
    wrap_embedder: WrapEmbedder | None = None,
) -> dict[str, float | int]:
    """{"n", "hit@1", "hit@3", "mrr", "abstain_precision", "abstain_recall", "p50_ms",
    "p99_ms"} for the queries in `queries_file` against the articles in `kb_data`.
    `wrap_embedder` may wrap the embedder (to show the index build), keeping its name and dim."""
    queries = load_queries(queries_file)
    embedder = make_embedder(embedder_spec)
    if wrap_embedder is not None:
        embedder = wrap_embedder(embedder)
    kb = KnowledgeBase(embedder, load_profile(thresholds, embedder.name), cache_root=cache_root)
    kb.build(load_yaml(kb_data))
    return evaluate(kb, queries, progress=progress)


def evaluate(
    kb: KnowledgeBase, queries: list[LabelledQuery], *, progress: Progress | None = None
) -> dict[str, float | int]:
    """The figures of the module docstring; `progress` sees every query once, in order."""
    kb.query_sync("你好")  # warm-up: first-call costs (jieba, model pages) are not per query
    ranks: list[int] = []
    abstained: list[bool] = []
    latencies: list[float] = []
    answerable = out_of_kb = answered = wrong = clarified = clarify_hit = 0
    ook_abstained = ook_clarified = 0
    # The progress wrapper advances between queries, so its drawing is outside the latencies.
    for q in progress(queries) if progress else queries:
        started = time.perf_counter()
        result = kb.query_sync(q.query, limit=_RANKS)
        latencies.append(time.perf_counter() - started)
        abstained.append(result.decision is not KbDecision.ANSWER)
        top = result.best.article.id if result.best else None
        offered = [h.article.id for h in result.hits[:CLARIFY_CHOICES]]
        if q.expected is None:
            out_of_kb += 1
            ook_abstained += result.decision is not KbDecision.ANSWER
            ook_clarified += result.decision is KbDecision.CLARIFY
        else:
            answerable += 1
            if result.decision is KbDecision.ANSWER:
                answered += 1
                wrong += top != q.expected
            elif result.decision is KbDecision.CLARIFY:
                clarified += 1
                clarify_hit += q.expected in offered
        if q.expected is not None:
            ranked = [h.article_id for h in result.hits]
            ranks.append(ranked.index(q.expected) if q.expected in ranked else _RANKS)
    null = np.array([q.expected is None for q in queries], dtype=bool)
    abst = np.array(abstained, dtype=bool)
    r = np.array(ranks)
    lat = np.array(latencies) * 1000
    return {
        "n": len(queries),
        "hit@1": _ratio((r == 0).sum(), len(r)),
        "hit@3": _ratio((r < 3).sum(), len(r)),
        "mrr": round(float(np.mean(np.where(r < _RANKS, 1.0 / (r + 1), 0.0))), 4)
        if len(r)
        else 0.0,
        "abstain_precision": _ratio((abst & null).sum(), abst.sum()),
        "abstain_recall": _ratio((abst & null).sum(), null.sum()),
        "answer_rate": _ratio(answered, answerable),
        "wrong_answer_rate": _ratio(wrong, answerable),
        "clarify_rate": _ratio(clarified, answerable),
        "clarify_hit": _ratio(clarify_hit, clarified),
        "out_of_kb_abstain_rate": _ratio(ook_abstained, out_of_kb),
        "out_of_kb_clarify_rate": _ratio(ook_clarified, out_of_kb),
        "p50_ms": round(float(np.percentile(lat, 50)), 2) if len(lat) else 0.0,
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if len(lat) else 0.0,
    }


def _ratio(num: int, den: int) -> float:
    return round(float(num) / float(den), 4) if den else 0.0

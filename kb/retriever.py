"""Hybrid retrieval: dense question similarity fused with BM25 words and pinyin.

Per article: the best cosine over its questions (dense), the cosine to the centroid of its
questions (a paraphrase close to several of them is a safer bet than one lucky neighbour),
and the BM25 shares of words and pinyin bigrams. The fused score is their weighted sum, with
weights from the calibrated profile (kb/thresholds.py). Candidates are the union of the
dense, word and pinyin top lists, so a typo that defeats the embedding still gets in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kb.articles import Article
from kb.embedder import Embedder
from kb.indexes import KbIndexes
from kb.thresholds import RankWeights


@dataclass(frozen=True, slots=True)
class RetrieverConfig:
    vector_k: int = 64  # nearest question vectors fetched
    dense_articles: int = 20  # articles kept from the dense list
    term_articles: int = 8  # articles kept from each term list (words, pinyin)


@dataclass(frozen=True, slots=True)
class Candidate:
    article_id: str
    matched_question: str
    dense: float
    centroid: float
    lexical: float
    pinyin: float
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class KbHit:
    article_id: str
    score: float
    matched_question: str
    article: Article


@dataclass(frozen=True, slots=True)
class Retrieval:
    hits: list[KbHit]  # best first, at most `limit`
    signals: dict[str, float]  # query-level signals for the abstainer (kb/thresholds.SIGNALS)


class Retriever:
    def __init__(
        self,
        embedder: Embedder,
        indexes: KbIndexes,
        weights: RankWeights,
        config: RetrieverConfig | None = None,
    ) -> None:
        self._embedder = embedder
        self._ix = indexes
        self._w = weights
        self._config = config or RetrieverConfig()

    def retrieve(self, text: str, limit: int = 3) -> Retrieval:
        """CPU-bound (embedding, faiss, jieba): async callers use asyncio.to_thread."""
        query = self._embedder.embed_queries([text])[0]
        return self.retrieve_embedded(text, query, limit)

    def retrieve_embedded(self, text: str, query: np.ndarray, limit: int = 3) -> Retrieval:
        ranked, unknown = self.rank(text, query)
        hits = [
            KbHit(c.article_id, c.score, c.matched_question, self._ix.articles[c.article_id])
            for c in ranked[:limit]
        ]
        return Retrieval(hits, query_signals(ranked, unknown, text))

    def rank(self, text: str, query: np.ndarray) -> tuple[list[Candidate], float]:
        """Every candidate with its signals, best fused score first; and the share of the
        query's word weight unknown to the KB."""
        cfg, ix = self._config, self._ix
        best: dict[str, tuple[float, str]] = {}
        for hit in ix.vectors.search(query, cfg.vector_k):
            if hit.article_id not in best:
                best[hit.article_id] = (hit.score, hit.text)
        words = ix.lexical.score(ix.lexical.query_tokens(text))
        sounds = ix.pinyin.score(ix.pinyin.query_tokens(text))
        ids = list(best)[: cfg.dense_articles]
        ids += words.top(cfg.term_articles) + sounds.top(cfg.term_articles)
        ids = [a for a in dict.fromkeys(ids) if a in ix.articles]
        best.update(self._exact([a for a in ids if a not in best], query))
        centroid = (ix.centroids(ids) @ query).tolist()
        out = []
        for i, article_id in enumerate(ids):
            dense, matched = best[article_id]
            c = Candidate(
                article_id=article_id,
                matched_question=matched,
                dense=dense,
                centroid=centroid[i],
                lexical=words.get(article_id),
                pinyin=sounds.get(article_id),
            )
            out.append(_scored(c, self._w))
        out.sort(key=lambda c: c.score, reverse=True)
        return out, words.unknown

    def _exact(self, article_ids: list[str], query: np.ndarray) -> dict[str, tuple[float, str]]:
        """Dense similarity (and best question) of articles the vector search did not return."""
        out = {}
        vectors = self._ix.vectors
        for article_id, stored in zip(article_ids, vectors.vectors_of(article_ids), strict=True):
            if not len(stored):
                out[article_id] = (0.0, self._ix.articles[article_id].question)
                continue
            sims = stored @ query
            i = int(np.argmax(sims))
            out[article_id] = (float(sims[i]), vectors.texts(article_id)[i])
        return out


def _scored(c: Candidate, w: RankWeights) -> Candidate:
    score = w.dense * c.dense + w.centroid * c.centroid + w.lexical * c.lexical
    score += w.pinyin * c.pinyin
    return Candidate(
        c.article_id, c.matched_question, c.dense, c.centroid, c.lexical, c.pinyin, score
    )


def query_signals(ranked: list[Candidate], unknown: float, text: str) -> dict[str, float]:
    """The abstainer's inputs (see kb/thresholds.SIGNALS); zeros when nothing matched."""
    top = ranked[0] if ranked else Candidate("", "", 0.0, 0.0, 0.0, 0.0)
    second = ranked[1].score if len(ranked) > 1 else 0.0
    return {
        "top": top.score,
        "margin": top.score - second,
        "dense": top.dense,
        "centroid": top.centroid,
        "lexical": top.lexical,
        "pinyin": top.pinyin,
        "unknown_words": unknown,
        "length": math.log1p(len(text.strip())),
    }

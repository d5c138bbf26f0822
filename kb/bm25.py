"""BM25 over pre-tokenised documents (bm25s), with cheap single-document updates.

bm25s builds an immutable score matrix. Rebuilding it for every edited article would cost
seconds on a large KB, so edits go to a small overlay scored with the base's statistics
(document count, frequencies, mean length: stale by a few documents, which BM25 does not
notice) and replaced base rows are masked. The base is rebuilt once the overlay grows past
a fraction of it.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import bm25s
import numpy as np

log = logging.getLogger(__name__)

Key = Hashable


@dataclass(frozen=True, slots=True)
class Bm25Config:
    k1: float = 1.2
    b: float = 0.75
    overlay_fraction: float = 0.05  # rebuild the base when the overlay exceeds this share
    overlay_min: int = 64  # ... but never for fewer edits than this


@dataclass(frozen=True, slots=True)
class Bm25Scores:
    """One query's scores, kept as an array over the base documents: on a large KB a common
    word matches tens of thousands of documents, and making a Python object of each cost
    more than scoring them did. Read a few with get(), the best with top(). Every score is
    multiplied by `scale` when read (dividing a 100k-entry array per query cost more than
    the scoring)."""

    base: np.ndarray  # one raw score per base row; masked (replaced, deleted) rows hold 0
    base_keys: Sequence[Key]
    base_row: Mapping[Key, int]
    overlay: Mapping[Key, float]  # edited documents with a non-zero raw score
    scale: float = 1.0

    def get(self, key: Key) -> float:
        if key in self.overlay:
            return self.overlay[key] * self.scale
        row = self.base_row.get(key)
        return 0.0 if row is None else float(self.base[row]) * self.scale

    def top(self, n: int) -> list[Key]:
        """The n best keys with a non-zero score, best first; equal scores in document order
        (base before overlay)."""
        best: list[tuple[float, Key]] = []
        rows = np.flatnonzero(self.base > 0)
        if n > 0 and len(rows):
            values = self.base[rows]
            if len(rows) > n:  # keep the n best and everything tied with the n-th
                keep = values >= np.partition(values, len(rows) - n)[len(rows) - n]
                rows, values = rows[keep], values[keep]
            order = np.lexsort((rows, -values))[:n]
            best = [(float(values[i]), self.base_keys[rows[i]]) for i in order]
        best += [(score, key) for key, score in self.overlay.items()]
        best.sort(key=lambda item: item[0], reverse=True)  # stable: ties keep their order
        return [key for _, key in best[: max(n, 0)]]

    def divided(self, by: float) -> Bm25Scores:
        return replace(self, scale=self.scale / by)


class Bm25Index:
    """Scores every live document for a query; a document is a token list under a key."""

    def __init__(self, config: Bm25Config | None = None) -> None:
        self._config = config or Bm25Config()
        self._docs: dict[Key, tuple[str, ...]] = {}
        self._base: bm25s.BM25 | None = None
        self._base_keys: list[Key] = []
        self._base_row: dict[Key, int] = {}
        self._alive = np.zeros(0, dtype=bool)
        self._masked = 0  # rows of the base no longer alive
        self._overlay: dict[Key, Counter[str]] = {}
        self._df: Counter[str] = Counter()
        self._avgdl = 1.0

    def __len__(self) -> int:
        return len(self._docs)

    def build(self, docs: Iterable[tuple[Key, Sequence[str]]]) -> None:
        self._docs = {key: tuple(tokens) for key, tokens in docs}
        self._rebuild()

    def upsert(self, key: Key, tokens: Sequence[str]) -> None:
        self._mask(key)
        self._docs[key] = tuple(tokens)
        self._overlay[key] = Counter(tokens)
        if len(self._overlay) > max(
            self._config.overlay_min, self._config.overlay_fraction * len(self._base_keys)
        ):
            self._rebuild()

    def delete(self, key: Key) -> None:
        self._mask(key)
        self._docs.pop(key, None)
        self._overlay.pop(key, None)

    def knows(self, token: str) -> bool:
        """True if some document (as of the last rebuild) contains the token."""
        return token in self._df

    def max_score(self, tokens: Sequence[str]) -> float:
        """The score ceiling of a query: the sum of its distinct tokens' idf (a token the
        corpus never saw counts as the rarest), so score / max_score is in [0, 1)."""
        return sum(self._idf(self._df.get(t, 0)) for t in dict.fromkeys(tokens))

    def scores(self, tokens: Sequence[str]) -> Bm25Scores:
        """The score of every live document for the query (0 where nothing matched)."""
        query = list(dict.fromkeys(tokens))
        base = self._base_scores(query)
        overlay: dict[Key, float] = {}
        if self._overlay and query:
            for key, counts in self._overlay.items():
                score = float(np.float32(self._score_counts(query, counts)))
                if score > 0:
                    overlay[key] = score
        return Bm25Scores(base, self._base_keys, self._base_row, overlay)

    def _base_scores(self, query: Sequence[str]) -> np.ndarray:
        """Sums the query tokens' columns of bm25s's precomputed score matrix (CSC) with one
        bincount: bm25s's own get_scores adds column by column and, on 100k documents,
        cost more in copies around it than in the sum."""
        n = len(self._base_keys)
        ids = self._base.get_tokens_ids(query) if self._base is not None and n else []
        if not ids:
            return np.zeros(n, dtype=np.float64)
        matrix = self._base.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        columns = [slice(indptr[i], indptr[i + 1]) for i in ids]
        rows = np.concatenate([indices[c] for c in columns])
        weights = np.concatenate([data[c] for c in columns])
        scores = np.bincount(rows, weights=weights, minlength=n)
        if self._masked:
            scores[~self._alive] = 0.0
        return scores

    def _score_counts(self, query: Sequence[str], counts: Counter[str]) -> float:
        k1, b = self._config.k1, self._config.b
        norm = k1 * (1 - b + b * sum(counts.values()) / self._avgdl)
        total = 0.0
        for t in query:
            tf = counts.get(t, 0)
            if tf:
                total += self._idf(self._df.get(t, 0)) * tf / (tf + norm)
        return total

    def _idf(self, df: int) -> float:
        n = max(len(self._base_keys), 1)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))  # bm25s "lucene" idf

    def _mask(self, key: Key) -> None:
        row = self._base_row.get(key)
        if row is not None and self._alive[row]:
            self._alive[row] = False
            self._masked += 1

    def _rebuild(self) -> None:
        self._base_keys = list(self._docs)
        self._base_row = {k: i for i, k in enumerate(self._base_keys)}
        self._alive = np.ones(len(self._base_keys), dtype=bool)
        self._masked = 0
        self._overlay = {}
        corpus = [list(self._docs[k]) or [""] for k in self._base_keys]
        self._df = Counter(t for doc in corpus for t in set(doc) if t)
        self._avgdl = (sum(map(len, corpus)) / len(corpus)) if corpus else 1.0
        if not corpus:
            self._base = None
            return
        base = bm25s.BM25(method="lucene", k1=self._config.k1, b=self._config.b)
        base.index(corpus, show_progress=False)
        self._base = base
        log.debug("kb.bm25_rebuilt", extra={"docs": len(corpus)})

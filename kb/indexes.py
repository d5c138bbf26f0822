"""The in-memory state retrieval reads: articles by id, the question vectors, and the
two term indexes, kept in step with each other on every build, upsert and delete."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from kb.articles import Article
from kb.lexical import FieldIndex, LexicalIndex
from kb.pinyin import PinyinIndex
from kb.vector_index import VectorIndex

_CENTROID_CACHE = 20_000  # articles; bounds memory on very large KBs


def vector_texts(article: Article) -> list[str]:
    """The texts embedded for an article: its standard and similar questions, once each."""
    return list(dict.fromkeys(q for q in article.questions if q.strip()))


class KbIndexes:
    def __init__(self, vectors: VectorIndex) -> None:
        self.articles: dict[str, Article] = {}
        self.vectors = vectors
        self.lexical = LexicalIndex()
        self.pinyin = PinyinIndex()
        self._fields: FieldIndex | None = None  # built on the first inbox search
        self._centroids: OrderedDict[str, np.ndarray] = OrderedDict()

    def build(self, articles: Sequence[Article], vectors: VectorIndex) -> None:
        """Replace everything; `vectors` already holds the articles' question vectors."""
        self.articles = {a.id: a for a in articles}
        self.vectors = vectors
        self.lexical.build(articles)
        self.pinyin.build(articles)
        self._fields = None
        self._centroids.clear()

    def upsert(self, article: Article, question_vectors: np.ndarray) -> None:
        self.articles[article.id] = article
        self.vectors.add(article.id, vector_texts(article), question_vectors)
        self.lexical.upsert(article)
        self.pinyin.upsert(article)
        if self._fields is not None:
            self._fields.upsert(article)
        self._centroids.pop(article.id, None)

    def delete(self, article_id: str) -> None:
        self.articles.pop(article_id, None)
        self.vectors.remove(article_id)
        self.lexical.delete(article_id)
        self.pinyin.delete(article_id)
        if self._fields is not None:
            self._fields.delete(article_id)
        self._centroids.pop(article_id, None)

    @property
    def fields(self) -> FieldIndex:
        """Character grams over every field (answers too), for the inbox search only."""
        if self._fields is None:
            fields = FieldIndex()
            fields.build(self.articles.values())
            self._fields = fields
        return self._fields

    def centroids(self, article_ids: Sequence[str]) -> np.ndarray:
        """(len(article_ids), dim): the normalised mean of each article's question vectors
        (cached; the uncached ones are read from the vector index together)."""
        cache = self._centroids
        missing = [a for a in dict.fromkeys(article_ids) if a not in cache]
        for article_id, stored in zip(missing, self.vectors.vectors_of(missing), strict=True):
            vec = stored.mean(axis=0) if len(stored) else np.zeros(self.vectors.dim, np.float32)
            norm = float(np.linalg.norm(vec))
            cache[article_id] = (vec / norm if norm > 0 else vec).astype(np.float32)
        out = np.empty((len(article_ids), self.vectors.dim), dtype=np.float32)
        for row, article_id in enumerate(article_ids):
            out[row] = cache[article_id]
            cache.move_to_end(article_id)
        while len(cache) > _CENTROID_CACHE:
            cache.popitem(last=False)
        return out

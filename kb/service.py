"""KnowledgeBase: the one object the router and the agents' inbox hold.

Reads are served from memory (articles, faiss, BM25); the repository is the record and is
written first on every change, then the in-memory indexes are updated in place (one
article's vectors and term entries; no rebuild). CPU-bound work runs in worker threads so
the event loop never waits on embedding, faiss or jieba.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from kb.articles import Article, ArticleRepository, validate_article
from kb.build import build_indexes
from kb.colloquial import standardize
from kb.decision import CLARIFY_CHOICES, KbDecision, decide
from kb.embedder import Embedder
from kb.errors import ArticleNotFound
from kb.indexes import KbIndexes, vector_texts
from kb.replies import clarify_text
from kb.retriever import KbHit, Retriever, RetrieverConfig
from kb.search import SearchHit, search_articles
from kb.thresholds import Profile
from kb.vector_index import VectorIndex, VectorIndexConfig

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500  # longer input is cut: a citizen's message, not a document
# The embedding reads only the start (its cost grows with the length: 140 ms at 2,000
# characters); the lexical matchers read all MAX_QUERY_CHARS.
EMBED_QUERY_CHARS = 200


@dataclass(frozen=True, slots=True)
class KbResult:
    decision: KbDecision
    hits: list[KbHit]  # best first, at most the query's limit (3 by default)
    confidence: float  # P(best article is right), from the calibrated abstainer
    answer_text: str = ""  # decision answer: the best article's answer
    clarify_text: str = ""  # decision clarify: the prompt with the questions offered

    @property
    def best(self) -> KbHit | None:
        return self.hits[0] if self.hits else None

    @property
    def choices(self) -> tuple[str, ...]:
        """The questions offered when clarifying (the hits' standard questions)."""
        if self.decision is not KbDecision.CLARIFY:
            return ()
        return tuple(h.article.question for h in self.hits[:CLARIFY_CHOICES])


class KnowledgeBase:
    def __init__(
        self,
        embedder: Embedder,
        profile: Profile,
        *,
        cache_root: Path | None = None,
        vector_config: VectorIndexConfig | None = None,
        retriever_config: RetrieverConfig | None = None,
    ) -> None:
        self.embedder = embedder
        self.profile = profile
        self._cache_root = cache_root
        self._vector_config = vector_config
        self._indexes = KbIndexes(VectorIndex(embedder.dim, vector_config))
        self._retriever = Retriever(embedder, self._indexes, profile.rank, retriever_config)
        self._repo: ArticleRepository | None = None
        # Readers (queries, searches in worker threads) and writers (upserts) share the
        # indexes; faiss and bm25 are not safe against concurrent mutation.
        self._lock = threading.RLock()
        self._write = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._indexes.articles)

    async def load(self, repo: ArticleRepository) -> None:
        """Build from the repository (the vector cache is reused when its hash matches)."""
        articles = await repo.all()
        await asyncio.to_thread(self.build, articles)
        self._repo = repo

    def build(self, articles: list[Article]) -> None:
        """Synchronous build from a list of articles (CLI, evaluation, tests)."""
        indexes = build_indexes(
            articles, self.embedder, cache_root=self._cache_root, config=self._vector_config
        )
        with self._lock:
            self._indexes.build(articles, indexes.vectors)
        log.info("kb.loaded", extra={"articles": len(articles), "embedder": self.embedder.name})

    async def query(self, text: str, limit: int = CLARIFY_CHOICES) -> KbResult:
        return await asyncio.to_thread(self.query_sync, text, limit)

    def query_sync(self, text: str, limit: int = CLARIFY_CHOICES) -> KbResult:
        """limit: hits returned (at least the clarify choices); the decision is the same."""
        text = standardize(text)[:MAX_QUERY_CHARS]  # 咋/啥/娃 … as the articles say them
        if not text:
            return KbResult(KbDecision.NONE, [], 0.0)
        vector = self.embedder.embed_queries([text[:EMBED_QUERY_CHARS]])[0]
        with self._lock:
            retrieval = self._retriever.retrieve_embedded(text, vector, max(limit, CLARIFY_CHOICES))
        verdict = decide(retrieval, self.profile)
        hits = retrieval.hits
        if verdict.decision is KbDecision.ANSWER:
            return KbResult(
                verdict.decision, hits, verdict.confidence, answer_text=hits[0].article.answer
            )
        if verdict.decision is KbDecision.CLARIFY:
            text_ = clarify_text([h.article.question for h in hits[:CLARIFY_CHOICES]])
            return KbResult(verdict.decision, hits, verdict.confidence, clarify_text=text_)
        return KbResult(verdict.decision, hits, verdict.confidence)

    def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        """The inbox's search: exact, typo-tolerant and pinyin matches with highlighted
        fragments. Synchronous and CPU-bound: callers run it in a thread."""
        with self._lock:
            return search_articles(self._indexes, text, limit)

    def articles(self) -> list[Article]:
        with self._lock:
            return list(self._indexes.articles.values())

    def get(self, article_id: str) -> Article:
        try:
            return self._indexes.articles[article_id]
        except KeyError:
            raise ArticleNotFound(article_id) from None

    async def upsert(self, article: Article) -> None:
        """Store the article, then index it (only its own vectors are embedded)."""
        validate_article(article)
        async with self._write:
            vectors = await asyncio.to_thread(self.embedder.embed_passages, vector_texts(article))
            if self._repo is not None:
                await self._repo.upsert(article)
            await asyncio.to_thread(self._apply_upsert, article, vectors)
        log.info("kb.article_upserted", extra={"article": article.id})

    async def delete(self, article_id: str) -> None:
        """Remove the article; raises ArticleNotFound."""
        async with self._write:
            if self._repo is not None:
                await self._repo.delete(article_id)
            elif article_id not in self._indexes.articles:
                raise ArticleNotFound(article_id)
            await asyncio.to_thread(self._apply_delete, article_id)
        log.info("kb.article_deleted", extra={"article": article_id})

    def _apply_upsert(self, article: Article, vectors: object) -> None:
        with self._lock:
            self._indexes.upsert(article, vectors)  # type: ignore[arg-type]

    def _apply_delete(self, article_id: str) -> None:
        with self._lock:
            self._indexes.delete(article_id)

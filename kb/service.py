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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kb.articles import Article, ArticleRepository, validate_article
from kb.build import build_indexes
from kb.colloquial import standardize
from kb.decision import CLARIFY_CHOICES, KbDecision, decide
from kb.embedder import Embedder
from kb.errors import ArticleNotFound
from kb.indexes import KbIndexes, vector_texts
from kb.lexical import every_field_text
from kb.replies import clarify_text
from kb.retriever import KbHit, Retriever, RetrieverConfig
from kb.search import SearchHit, search_articles
from kb.thresholds import Profile
from kb.tokenize import dictionary_nouns, mentioned_words
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
    # nouns of the query that no article mentions (车船税, 美国签证): the query is about
    # something the knowledge base does not hold, whatever article ranks best
    novel_terms: tuple[str, ...] = ()
    # the query's nouns that name a thing (novel or not), and the words the best article
    # mentions (answer only): a follow-up answered with an article that never mentions what
    # it names (交强险 after car inspection) was not answered
    terms: tuple[str, ...] = ()
    best_mentions: frozenset[str] = frozenset()

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
        # the words each article mentions (every field), and in how many articles each is:
        # a set lookup per query noun, updated per article on upserts
        self._mentions: dict[str, frozenset[str]] = {}
        self._mentioned: Counter[str] = Counter()

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
            self._mentions.clear()
            self._mentioned.clear()
            for article in self._indexes.articles.values():
                self._mention(article)
        log.info("kb.loaded", extra={"articles": len(articles), "embedder": self.embedder.name})

    async def query(self, text: str, limit: int = CLARIFY_CHOICES) -> KbResult:
        return await asyncio.to_thread(self.query_sync, text, limit)

    def query_sync(self, text: str, limit: int = CLARIFY_CHOICES) -> KbResult:
        """limit: hits returned (at least the clarify choices); the decision is the same."""
        text = standardize(text)[:MAX_QUERY_CHARS]  # 咋/啥/娃 … as the articles say them
        if not text:
            return KbResult(KbDecision.NONE, [], 0.0)
        vector = self.embedder.embed_queries([text[:EMBED_QUERY_CHARS]])[0]
        # tagging reads only the query: done before the lock, which guards the indexes
        nouns = [
            w for w in dictionary_nouns(text, rarer_than=COMMON_NOUN_FREQ) if _names_a_thing(w)
        ]
        with self._lock:
            retrieval = self._retriever.retrieve_embedded(text, vector, max(limit, CLARIFY_CHOICES))
            novel = tuple(w for w in nouns if not self._mentioned[w])
            hits = retrieval.hits
            mentions = self._mentions.get(hits[0].article.id, frozenset()) if hits else frozenset()
        verdict = decide(retrieval, self.profile)
        said = {"novel_terms": novel, "terms": tuple(nouns)}
        if verdict.decision is KbDecision.ANSWER:
            answer = hits[0].article.answer
            return KbResult(
                verdict.decision,
                hits,
                verdict.confidence,
                answer_text=answer,
                best_mentions=mentions,
                **said,
            )
        if verdict.decision is KbDecision.CLARIFY:
            text_ = clarify_text([h.article.question for h in hits[:CLARIFY_CHOICES]])
            return KbResult(verdict.decision, hits, verdict.confidence, clarify_text=text_, **said)
        return KbResult(verdict.decision, hits, verdict.confidence, **said)

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
            self._forget(article.id)
            self._mention(article)

    def _apply_delete(self, article_id: str) -> None:
        with self._lock:
            self._indexes.delete(article_id)
            self._forget(article_id)

    def _mention(self, article: Article) -> None:
        words = mentioned_words(every_field_text(article))
        self._mentions[article.id] = words
        self._mentioned.update(words)

    def _forget(self, article_id: str) -> None:
        self._mentioned.subtract(self._mentions.pop(article_id, frozenset()))
        self._mentioned += Counter()  # drops the words no article mentions any more


def _names_a_thing(noun: str) -> bool:
    """Not a quantity or a pointer (几块钱, 那边), a time (晚点), a person (老伴: who asks,
    not what about) or a part of the body (腿脚不方便: how the person is, not what about)."""
    return (
        noun[0] not in _QUANTITY_OR_POINTER
        and noun[-1] not in _TIME
        and noun not in PEOPLE
        and noun not in BODY
    )


# jieba's dictionary count from which a noun is everyday language (身体 7,962, 医院 7,376),
# below which it names a thing (利率 1,443, 签证 444, 车船税 3)
COMMON_NOUN_FREQ = 5000
_QUANTITY_OR_POINTER = "几多这那哪一每各某"
_TIME = "点天期候间时"
# who a citizen asks for or about: relatives and the people around them
_PEOPLE_WORDS = (
    "老伴 老公 老婆 媳妇 丈夫 妻子 爱人 对象 儿子 女儿 闺女 儿媳 女婿 孙子 孙女 外孙 外孙女 "
    "爷爷 奶奶 外公 外婆 姥姥 姥爷 父亲 母亲 爸爸 妈妈 老爸 老妈 爹妈 父母 老爷子 老太太 "
    "老人家 老头 老太 哥哥 姐姐 弟弟 妹妹 表哥 表姐 表弟 表妹 堂哥 堂姐 堂弟 堂妹 亲戚 "
    "邻居 朋友 同事 同学 室友 房东 租客 孩子 小孩 宝宝 娃娃 婆婆 公公 岳父 岳母 叔叔 "
    "阿姨 舅舅 舅妈 姑姑 姑妈 姨妈 伯伯 大爷 大妈 大姐 大哥"
)
PEOPLE = frozenset(_PEOPLE_WORDS.split())
_BODY_WORDS = (
    "腿脚 手脚 耳朵 眼睛 腰杆 腰椎 膝盖 身子 身体 心脏 肚子 嗓子 牙齿 头发 脑子 脑壳 腿 脚 手 腰 头"
)
BODY = frozenset(_BODY_WORDS.split())

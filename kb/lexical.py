"""Term matching over articles: BM25 on jieba words (and, through kb/pinyin.py, on pinyin).

One document per article: its standard and similar questions and its keywords. Scores are
returned divided by the query's ceiling (the sum of its tokens' idf), so 1.0 would mean
every query word matched and 0.3 that a third of its weight did, whatever the query length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from kb import tokenize
from kb.articles import Article
from kb.bm25 import Bm25Config, Bm25Index, Bm25Scores

Tokens = Callable[[str], list[str]]
Document = Callable[[Article], str]


@dataclass(frozen=True, slots=True)
class TermScores:
    scores: Bm25Scores | None  # article id -> BM25 / ceiling; None: nothing can match
    unknown: float  # share of the query's idf weight in tokens no article contains

    def get(self, article_id: str) -> float:
        return 0.0 if self.scores is None else self.scores.get(article_id)

    def top(self, n: int) -> list[str]:
        return [] if self.scores is None else [str(k) for k in self.scores.top(n)]


def article_text(article: Article) -> str:
    """What term matching sees of an article (the answer is left out: it is long and
    generic, and matching it pulls in articles that merely mention a word)."""
    return "，".join((*article.questions, *article.keywords))


def every_field_text(article: Article) -> str:
    """Every field, the answer too: what the agents' search looks through."""
    return "，".join((*article.questions, article.answer, *article.keywords))


class TermIndex:
    """BM25 over one tokenisation of the articles."""

    def __init__(
        self, tokens: Tokens, document: Document = article_text, config: Bm25Config | None = None
    ) -> None:
        self._tokens = tokens
        self._document = document
        self._bm25 = Bm25Index(config)

    def build(self, articles: Iterable[Article]) -> None:
        self._bm25.build((a.id, self._tokens(self._document(a))) for a in articles)

    def upsert(self, article: Article) -> None:
        self._bm25.upsert(article.id, self._tokens(self._document(article)))

    def delete(self, article_id: str) -> None:
        self._bm25.delete(article_id)

    def query_tokens(self, text: str) -> list[str]:
        return self._tokens(text)

    def score(self, tokens: Sequence[str]) -> TermScores:
        ceiling = self._bm25.max_score(tokens)
        if ceiling <= 0:
            return TermScores(None, 0.0)
        known = self._bm25.max_score([t for t in tokens if self._bm25.knows(t)])
        return TermScores(self._bm25.scores(tokens).divided(ceiling), 1.0 - known / ceiling)


class LexicalIndex(TermIndex):
    """BM25 over jieba words, with the articles' keywords in jieba's dictionary."""

    def __init__(self, config: Bm25Config | None = None) -> None:
        super().__init__(tokenize.words, config=config)

    def build(self, articles: Iterable[Article]) -> None:
        articles = list(articles)
        tokenize.add_words(k for a in articles for k in a.keywords)
        super().build(articles)

    def upsert(self, article: Article) -> None:
        tokenize.add_words(article.keywords)
        super().upsert(article)


class FieldIndex(TermIndex):
    """Character grams over every field: the candidates of the agents' search, where an
    answer's wording counts and a typo should cost a gram or two, not the whole word."""

    def __init__(self, config: Bm25Config | None = None) -> None:
        super().__init__(tokenize.char_grams, every_field_text, config)

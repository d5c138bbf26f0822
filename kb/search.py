"""The agents' inbox search: exact, typo-tolerant and pinyin matches over every field of
every article (question, similar questions, answer, keywords), with highlighted fragments.

Fragments are HTML: the article text is escaped and only our own <mark> tags are added,
because articles are edited by people and the fragments end up in a browser.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kb import tokenize
from kb.articles import Article
from kb.indexes import KbIndexes
from kb.pinyin import LatinQuery, latin_query, latin_spans, pinyin_spans

FRAGMENT_CONTEXT = 24  # characters shown either side of the first match in a long field
MAX_FRAGMENTS = 3
_CANDIDATES = 50


@dataclass(frozen=True, slots=True)
class Highlight:
    field: str  # question, similar, answer or keywords
    text: str  # the field's raw text
    spans: tuple[tuple[int, int], ...]  # matched character ranges, sorted, not overlapping


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: str
    question: str
    answer: str
    match: str  # how it matched: "exact", "fuzzy" or "pinyin"
    score: float
    highlights: tuple[Highlight, ...]

    @property
    def fragments(self) -> tuple[str, ...]:
        """HTML-escaped text with <mark>…</mark> around the matched spans."""
        return tuple(render_fragment(h) for h in self.highlights[:MAX_FRAGMENTS])


def search_articles(indexes: KbIndexes, text: str, limit: int = 10) -> list[SearchHit]:
    query = tokenize.fold(text).strip()
    if not query or limit <= 0:
        return []
    grams = indexes.fields.score(tokenize.char_grams(query))
    latin = latin_query(query)  # "shebaoka" or "sbk" typed for 社保卡
    if latin is not None:
        sounds = indexes.pinyin.score(indexes.pinyin.latin_tokens(latin))
        ids = dict.fromkeys(grams.top(_CANDIDATES) + sounds.top(_CANDIDATES))
    else:
        sounds = indexes.pinyin.score(indexes.pinyin.query_tokens(query))
        ids = dict.fromkeys(grams.top(_CANDIDATES) + sounds.top(limit))
    # One-character words highlight every stray 补 or 金: only a one-character query may.
    words = [w for w in tokenize.words(query) if len(w) > 1 or len(query) == 1]
    hits = []
    for article_id in ids:
        article = indexes.articles.get(article_id)
        if article is None:
            continue
        share = grams.get(article_id) + sounds.get(article_id)
        hit = _match(article, query, words, share, latin)
        if hit is not None:
            hits.append(hit)
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:limit]


def render_fragment(h: Highlight) -> str:
    """The field text (cut around the first match when long) with the spans marked."""
    start, end = 0, len(h.text)
    if h.spans and len(h.text) > 3 * FRAGMENT_CONTEXT:
        start = max(0, h.spans[0][0] - FRAGMENT_CONTEXT)
        end = min(len(h.text), h.spans[0][1] + 2 * FRAGMENT_CONTEXT)
    out = ["…" if start > 0 else ""]
    pos = start
    for a, b in h.spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(html.escape(h.text[pos:a]))
        out.append(f"<mark>{html.escape(h.text[a:b])}</mark>")
        pos = b
    out.append(html.escape(h.text[pos:end]))
    out.append("…" if end < len(h.text) else "")
    return "".join(out)


def _match(
    article: Article,
    query: str,
    words: Sequence[str],
    share: float,
    latin: LatinQuery | None = None,
) -> SearchHit | None:
    fields = [("question", article.question)]
    fields += [("similar", s) for s in article.similar]
    fields += [("keywords", k) for k in article.keywords]
    fields += [("answer", article.answer)]
    exact = fuzzy = sound = False
    highlights = []
    for name, raw in fields:
        folded = tokenize.fold(raw)
        whole = list(_occurrences(folded, [query]))
        parts = list(_occurrences(folded, words)) + list(_occurrences(folded, _bigrams(query)))
        tones = latin_spans(raw, latin) if latin is not None else pinyin_spans(raw, query)
        spans = _merge(whole + parts + tones)
        if not spans:
            continue
        exact |= bool(whole)
        fuzzy |= bool(parts)
        sound |= bool(tones) and not parts
        highlights.append(Highlight(name, raw, spans))
    if not highlights:
        return None
    match = "exact" if exact else "fuzzy" if fuzzy else "pinyin"
    # Whole-query matches first, then how much of the query's characters and sounds the
    # article holds (BM25 shares), then how many of its fields matched.
    score = (2.0 if exact else 0.0) + share + 0.05 * len(highlights)
    highlights.sort(key=lambda h: (-sum(b - a for a, b in h.spans), _FIELD_ORDER[h.field]))
    return SearchHit(article.id, article.question, article.answer, match, score, tuple(highlights))


_FIELD_ORDER = {"question": 0, "similar": 1, "keywords": 2, "answer": 3}


def _bigrams(query: str) -> list[str]:
    return [query[i : i + 2] for i in range(len(query) - 1) if tokenize.is_cjk(query[i])]


def _occurrences(text: str, needles: Iterable[str]) -> Iterable[tuple[int, int]]:
    for needle in needles:
        if not needle:
            continue
        start = text.find(needle)
        while start >= 0:
            yield start, start + len(needle)
            start = text.find(needle, start + 1)


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)

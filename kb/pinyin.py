"""Pinyin-tolerant matching: homophone typos (社保卡补半 → 补办, 身分证, 公鸡金 → 公积金) share
their pinyin with the right word, so we also match on toneless, dialect-folded syllables.

Folding merges the sounds that typists from the south and their input methods mix up:
zh/ch/sh → z/c/s and the -ng finals → -n. A syllable bigram is one token, so matching
needs two neighbouring characters to sound alike (one syllable alone is far too ambiguous).
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from pypinyin.constants import PINYIN_DICT
from pypinyin.seg.simpleseg import seg as pypinyin_segments

from kb.bm25 import Bm25Config
from kb.lexical import TermIndex
from kb.tokenize import normalize

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("ong", "on"))


def fold(syllable: str) -> str:
    """A toneless syllable with the dialect-confusable sounds merged."""
    for long, short in _INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


def syllables(text: str) -> list[tuple[int, str]]:
    """(character offset in `text`, folded syllable) for every Chinese character.

    Offsets index the original text (normalisation keeps one character for one)."""
    out: list[tuple[int, str]] = []
    for run in _CJK_RUN.finditer(normalize(text)):
        sounds = [s for word in pypinyin_segments(run.group()) for s in _word_sounds(word)]
        if len(sounds) != len(run.group()):  # never seen; keep offsets honest regardless
            continue
        out += [(run.start() + i, s) for i, s in enumerate(sounds)]
    return out


@functools.lru_cache(maxsize=65_536)
def _word_sounds(word: str) -> tuple[str, ...]:
    """Folded syllables of one of pypinyin's segments. lazy_pinyin converts segment by
    segment, so caching per segment gives its exact output at a fraction of the cost
    (its per-character conversion is most of a query's pinyin time)."""
    return tuple(fold(s) for s in lazy_pinyin(word, errors=_unknown))


def _unknown(chars: str) -> list[str]:
    return ["?"] * len(chars)


def pinyin_tokens(text: str) -> list[str]:
    """Syllable bigrams ("bu_ban") of neighbouring Chinese characters, for BM25."""
    return [sys.intern(f"{a}_{b}") for _, a, b in _pairs(syllables(text))]


def pinyin_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of `text` whose pinyin matches a syllable bigram of `query`."""
    wanted = {f"{a}_{b}" for _, a, b in _pairs(syllables(query))}
    spans = [(i, i + 2) for i, a, b in _pairs(syllables(text)) if f"{a}_{b}" in wanted]
    return spans


def _pairs(sounds: list[tuple[int, str]]) -> Iterator[tuple[int, str, str]]:
    for (i, a), (j, b) in itertools.pairwise(sounds):
        if j == i + 1:  # neighbours in the text, not across punctuation
            yield i, a, b


# Typed pinyin: an agent types "shebaoka" (full syllables) or "sbk" (their initials) for 社保卡.
_LATIN = re.compile(r"^[a-z']{2,40}$")
MAX_INITIALS = 6


@dataclass(frozen=True, slots=True)
class LatinQuery:
    """A query typed in Latin letters: folded syllables, or only their initials."""

    syllables: tuple[str, ...] = ()
    initials: str = ""

    def tokens(self) -> list[str]:
        return [f"{a}_{b}" for a, b in itertools.pairwise(self.syllables)]


@functools.cache
def _known_syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows (ü typed as v, as input methods do)."""
    out = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
            out.add("".join(c for c in plain if not unicodedata.combining(c)))
    return frozenset(s for s in out if s.isascii() and s.isalpha())


def latin_query(text: str) -> LatinQuery | None:
    """ "shebaoka" → se bao ka (folded, as the index holds them); "sbk" → initials s b k;
    None when the text is not Latin letters, or one syllable only (far too ambiguous)."""
    letters = normalize(text).strip().lower().replace(" ", "")
    if not _LATIN.match(letters):
        return None
    parts = _segment(letters.replace("'", ""))
    if parts and len(parts) >= 2:
        return LatinQuery(syllables=tuple(fold(p) for p in parts))
    if "'" not in letters and len(letters) <= MAX_INITIALS and not parts:
        return LatinQuery(initials=letters)
    return None


def _segment(letters: str) -> list[str] | None:
    """The fewest known syllables that spell `letters` (None if none do)."""
    known = _known_syllables()
    best: list[list[str] | None] = [None] * (len(letters) + 1)
    best[0] = []
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            shorter = best[end] is None or len(head or []) + 1 < len(best[end] or [])
            if head is not None and letters[start:end] in known and shorter:
                best[end] = [*head, letters[start:end]]
    return best[len(letters)]


def latin_spans(text: str, query: LatinQuery) -> list[tuple[int, int]]:
    """Character spans of `text` that sound like the typed syllables or fit their initials."""
    sounds = syllables(text)
    if query.syllables:
        want, size = list(query.syllables), len(query.syllables)
        same = lambda run: [s for _, s in run] == want  # noqa: E731
    else:
        want, size = list(query.initials), len(query.initials)
        same = lambda run: [s[0] for _, s in run] == want  # noqa: E731
    spans = []
    for k in range(len(sounds) - size + 1):
        run = sounds[k : k + size]
        if run[-1][0] - run[0][0] == size - 1 and same(run):  # neighbours, not across stops
            spans.append((run[0][0], run[-1][0] + 1))
    return spans


class PinyinIndex(TermIndex):
    """BM25 over folded pinyin syllable bigrams: finds homophone typos."""

    def __init__(self, config: Bm25Config | None = None) -> None:
        self._vocabulary: set[str] = set()
        super().__init__(self._remembered, config=config)

    def _remembered(self, text: str) -> list[str]:
        tokens = pinyin_tokens(text)
        self._vocabulary.update(tokens)
        return tokens

    def query_tokens(self, text: str) -> list[str]:
        return pinyin_tokens(text)

    def latin_tokens(self, query: LatinQuery) -> list[str]:
        """The index's tokens a typed query means: its syllable bigrams, or for initials
        every known bigram whose syllables start with neighbouring initials."""
        if query.syllables:
            return query.tokens()
        pairs = set(itertools.pairwise(query.initials))
        return sorted(t for t in self._vocabulary if (t[0], t.split("_", 1)[1][:1]) in pairs)

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
from collections.abc import Iterator

from pypinyin import lazy_pinyin
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


class PinyinIndex(TermIndex):
    """BM25 over folded pinyin syllable bigrams: finds homophone typos."""

    def __init__(self, config: Bm25Config | None = None) -> None:
        super().__init__(pinyin_tokens, config=config)

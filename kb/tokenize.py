"""Text normalisation and jieba word segmentation for the KB.

One private jieba dictionary (not jieba's global one, which nlu/ leaves alone too) taught the
articles' keywords, so domain terms such as 公积金 or 一键通 stay whole. jieba's start-up
(~1 s) happens once per process, on first use.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable

import jieba
import jieba.posseg

log = logging.getLogger(__name__)

# Question words and particles that every article shares: they carry no topic.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "哈",
        "嘛",
        "么",
        "啦",
        "嘞",
        "哇",
        "喔",
        "哟",
        "呗",
        "噢",
        "唉",
        "诶",
        "嗯",
        "喂",
        "么",
        "哪",
        "呐",
        "额",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "咱",
        "咱们",
        "俺",
        "俺们",
        "自己",
        "人家",
        "您",
        "请",
        "请问",
        "问",
        "问下",
        "问一下",
        "一下",
        "下",
        "怎么",
        "怎么办",
        "怎样",
        "怎么样",
        "如何",
        "咋弄",
        "咋查",
        "怎么弄",
        "咋",
        "咋整",
        "咋办",
        "咋个",
        "啥",
        "什么",
        "哪里",
        "哪儿",
        "哪个",
        "哪些",
        "为什么",
        "为啥",
        "是否",
        "是",
        "不是",
        "有",
        "没有",
        "有没有",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "会",
        "会不会",
        "要",
        "要不要",
        "想",
        "想要",
        "需要",
        "得",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "这边",
        "那边",
        "一个",
        "个",
        "些",
        "还",
        "就",
        "都",
        "也",
        "又",
        "再",
        "才",
        "已经",
        "现在",
        "然后",
        "在",
        "去",
        "到",
        "和",
        "跟",
        "与",
        "及",
        "给",
        "把",
        "被",
        "让",
        "对",
        "从",
        "向",
        "将",
        "为",
        "以",
        "或",
        "或者",
        "还是",
        "而且",
        "但是",
        "如果",
        "因为",
        "所以",
        "好",
        "很",
        "太",
        "比较",
        "最",
        "多",
        "一点",
        "一些",
        "点",
        "就是",
        "知道",
        "晓得",
        "谢谢",
        "你好",
        "您好",
        "麻烦",
        "打扰",
        "一哈",
        "不",
        "没",
    ]
)

_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_WORDISH = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_RUN = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_known: set[str] = set()


def normalize(text: str) -> str:
    """Half-width, lower case, NFKC; same meaning, one spelling."""
    return unicodedata.normalize("NFKC", text.translate(_FULL_TO_HALF)).lower()


def fold(text: str) -> str:
    """Half-width and lower case, one character for one: offsets into the result are
    offsets into `text` (highlighting relies on it)."""
    half = text.translate(_FULL_TO_HALF)
    folded = half.lower()
    return folded if len(folded) == len(text) else "".join(c.lower()[:1] or c for c in half)


def char_grams(text: str) -> list[str]:
    """Characters and character bigrams of the Chinese runs, and whole runs of letters and
    digits: a typo spoils one or two grams of a word, not the word."""
    out: list[str] = []
    for run in _RUN.findall(fold(text)):
        if run[0].isascii():
            out.append(sys.intern(run))
            continue
        out += [sys.intern(c) for c in run]
        out += [sys.intern(run[i : i + 2]) for i in range(len(run) - 1)]
    return out


def words(text: str) -> list[str]:
    """Content words of `text` for BM25: jieba words minus punctuation and stopwords.
    Interned, so the tokens of a large corpus share one copy per distinct word."""
    out = []
    for w in _jieba().lcut(normalize(text), HMM=False):
        w = w.strip()
        if w and w not in STOPWORDS and _WORDISH.search(w):
            out.append(sys.intern(w))
    return out


# jieba's noun tags: common, proper, organisation, place, other proper nouns
_NOUN_TAGS = frozenset({"n", "nz", "nt", "ns", "nw"})


def dictionary_nouns(text: str, rarer_than: int) -> list[str]:
    """Nouns of two or more characters that jieba's dictionary knows (no HMM guesses: those
    are mostly a word glued to a particle, 姐问, 开撒) and counts fewer than `rarer_than`
    times (身体, 问题, 单位 are too common to name a thing of their own)."""
    tokenizer = _jieba()
    return [
        p.word
        for p in _tagger().lcut(normalize(text), HMM=False)
        if p.flag in _NOUN_TAGS
        and len(p.word) > 1
        and 0 < (tokenizer.FREQ.get(p.word) or 0) < rarer_than
    ]


def mentioned_words(text: str) -> frozenset[str]:
    """Every dictionary word of two or more characters in `text`, the parts of long words too
    (search mode: 移动宽带 gives 移动, 宽带): what a text mentions, for a set lookup."""
    return frozenset(w for w in _jieba().lcut_for_search(normalize(text), HMM=False) if len(w) > 1)


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def add_words(terms: Iterable[str]) -> None:
    """Teach the KB dictionary domain terms (article keywords) so jieba keeps them whole."""
    tokenizer = _jieba()
    with _lock:
        for term in terms:
            term = normalize(term).strip()
            if len(term) > 1 and term not in _known:
                tokenizer.add_word(term, freq=50_000)
                _known.add(term)


@functools.cache
def _tagger() -> jieba.posseg.POSTokenizer:
    """Part-of-speech tagging over the KB dictionary (reads jieba's tag table once)."""
    return jieba.posseg.POSTokenizer(_jieba())


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
                log.debug("kb.jieba_loaded")
    return _tokenizer

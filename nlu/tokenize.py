"""Text normalisation and Chinese word segmentation shared by the intent model and the
entity extractor. One private jieba dictionary, so words we add never leak into the global
one that kb/ uses."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import jieba

log = logging.getLogger(__name__)

Token = tuple[str, int, int]  # (word, start, end) in the normalised text

# Full-width ASCII (ＡＢＣ１２３！) to half-width, one character for one: offsets stay valid.
_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def normalize(text: str) -> str:
    """Half-width and lower case, with the same length as `text` (entity offsets carry over)."""
    return text.translate(_FULL_TO_HALF).lower()


def tokenize(text: str) -> list[Token]:
    """Jieba words of an already normalised text, with offsets; whitespace dropped."""
    return [t for t in _jieba().tokenize(text, HMM=True) if not t[0].isspace()]


def add_words(words: Iterable[str]) -> None:
    """Teach the private dictionary domain words (lookup values, synonyms) so jieba keeps
    them whole."""
    tokenizer = _jieba()
    for word in words:
        if len(word) > 1:
            tokenizer.add_word(normalize(word), freq=20_000)


def _jieba() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
                log.debug("tokenize.jieba_loaded")
    return _tokenizer

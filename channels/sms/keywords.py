"""Keyword SMS (退订/TD stops notifications, 订阅 restores them) as citizens actually type
them: "退订。", "TD ", "td.", full-width "ＴＤ". A text is a keyword when, folded, it is one
of the words; a sentence that merely mentions one ("退订了吗？") is a message."""

from __future__ import annotations

import unicodedata

OPT_OUT = frozenset({"退订", "td", "t", "退订短信", "取消订阅", "stop", "unsubscribe"})
OPT_IN = frozenset({"订阅", "恢复", "start"})
# Unicode categories dropped before matching: punctuation, symbols, separators (spaces),
# control and format characters (line breaks, zero-width spaces).
_DROPPED = frozenset("PSZC")


def fold(text: str) -> str:
    """text in NFKC (full-width to ASCII), case-folded, without whitespace, punctuation or
    symbols."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] not in _DROPPED)


def is_opt_out(text: str) -> bool:
    return fold(text) in OPT_OUT


def is_opt_in(text: str) -> bool:
    return fold(text) in OPT_IN

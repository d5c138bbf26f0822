"""Colloquial and regional forms in citizens' questions rewritten to the standard words the
articles use, before the query is embedded and searched ("娃咋报名" reads as "孩子怎么报名").

Only words with one meaning in a hotline question are mapped; a verb with many senses (弄,
整, 搞) is left alone except in fixed phrases."""

from __future__ import annotations

import re

_WORDS = (
    ("咋整", "怎么办"),
    ("咋办", "怎么办"),
    ("咋弄", "怎么办理"),
    ("咋样", "怎么样"),
    ("咋", "怎么"),
    ("啥", "什么"),
    ("俺们", "我们"),
    ("俺", "我"),
    ("娃娃", "孩子"),
    ("娃儿", "孩子"),
    ("娃", "孩子"),
    ("扯证", "领结婚证"),
    ("多钱", "多少钱"),
    ("啥子", "什么"),
)
# longest first: 啥子 is one word, not 啥 + 子
_REPLACE = re.compile("|".join(re.escape(a) for a, _ in sorted(_WORDS, key=lambda w: -len(w[0]))))
_TO = dict(_WORDS)
# A yes-or-no question ending in 不/没/么 (能领失业金不, 有影响没, 能报么) asks "…吗".
# (什么, 怎么, 这么 end in 么 without asking yes or no)
_YES_NO = re.compile(
    r"(能|可以|要|用|有|是|会|行|需要|可).{0,12}?(?:不|没有|没|(?<![什怎这那多])么)([？?]?)$"
)


def standardize(text: str) -> str:
    out = _REPLACE.sub(lambda m: _TO[m.group(0)], text.strip())
    m = _YES_NO.search(out)
    if m:
        tail = m.group(0)
        cut = len(tail) - len(m.group(2))
        body = tail[:cut]
        for ending in ("没有", "不", "没", "么"):
            if body.endswith(ending):
                body = body[: -len(ending)] + "吗"
                break
        out = out[: m.start()] + body + m.group(2)
    return out

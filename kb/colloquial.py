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
    ("咋个", "怎么"),
    ("咋", "怎么"),
    ("啥子", "什么"),
    ("啥", "什么"),
    ("俺们", "我们"),
    ("俺", "我"),
    ("娃娃", "孩子"),
    ("娃儿", "孩子"),
    ("娃", "孩子"),
    ("扯证", "领结婚证"),
    ("多钱", "多少钱"),
    # Cantonese: function words and verbs that have no other reading in a Mandarin message
    ("可唔可以", "可不可以"),
    ("系咪", "是不是"),
    ("系唔系", "是不是"),
    ("唔该", "请问"),
    ("唔", "不"),
    ("嘅", "的"),
    ("咗", "了"),
    ("嚟", "来"),
    ("攞", "拿"),
    ("冇", "没有"),
    ("哋", "们"),
    ("佢", "他"),
    ("喺", "在"),
    ("嘢", "东西"),
    ("睇", "看"),
    ("搵", "找"),
    ("揾", "找"),
    ("畀", "给"),
    ("嗰", "那"),
    ("乜嘢", "什么"),
    ("咩", "什么"),
    ("点样", "怎么"),
    ("点解", "为什么"),
    ("边度", "哪里"),
    ("边个", "谁"),
    ("几多", "多少"),
    ("几耐", "多久"),
    ("点办", "怎么办"),
    ("屋企", "家里"),
    ("老豆", "父亲"),
    ("啱啱", "刚刚"),
    ("呢度", "这里"),
    ("琴日", "昨天"),
    ("听日", "明天"),
    # south-west, central and northern forms
    ("啷个", "怎么"),
    ("么子", "什么"),
    ("么斯", "什么"),
    ("么样", "怎么"),
    ("老汉儿", "父亲"),
    ("屋头", "家里"),
    ("莫得", "没有"),
    ("冇得", "没有"),
    ("晓得", "知道"),
    ("搞落了", "丢了"),
    ("整丢", "丢"),
    ("搞丢", "丢"),
    ("寻不着", "找不到"),
    ("找不着", "找不到"),
    ("哪达", "哪里"),
    ("额滴", "我的"),
    ("细伢子", "孩子"),
    ("小伢", "孩子"),
    ("伢儿", "孩子"),
    ("堂客", "妻子"),
    ("那嘎达", "那里"),
    ("这嘎达", "这里"),
    # Wu (Shanghai): 哪能办伐 = 怎么办吗
    ("哪能", "怎么"),
    ("啥辰光", "什么时候"),
    ("阿拉", "我们"),
    ("侬", "你"),
)
# longest first: 啥子 is one word, not 啥 + 子; 么样 inside 怎么样/什么样/这么样 is Mandarin
_REPLACE = re.compile(
    "|".join(
        ("(?<![怎什这那多])" if a.startswith("么") else "") + re.escape(a)
        for a, _ in sorted(_WORDS, key=lambda w: -len(w[0]))
    )
)
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

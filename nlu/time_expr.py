"""Time expressions (明天上午, 下周三, 3点, 今晚, 三天前 …) by pattern.

A part of day on its own (晚上, 半夜) is not tagged: in the training data it is mostly a
greeting (晚上好) or background colour, not a time the citizen gives us."""

from __future__ import annotations

import re

_CN = "零一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"
_REL = r"(?:(?:上上|下下|上|下|这|本)个?)"
_DAY = (
    r"(?:大前天|前天|昨天|昨儿|昨晚|昨夜|今天|今儿|今日|今早|今晚|今夜|明天|明儿|明日|明早"
    r"|明晚|大后天|后天|当天|每晚|每周[一二三四五六日天1-7])"
)
_WEEK = rf"(?:{_REL}?(?:周|星期|礼拜)[一二三四五六日天1-7]|{_REL}周末|{_REL}(?:周|星期|礼拜))"
_MONTH = rf"(?:{_REL}月(?:初|底|中旬|中)?|月[初底]|\d{{1,2}}月\d{{1,2}}[日号])"
_AGO = rf"(?:(?:{_NUM}|几|好几|半)个?(?:天|星期|礼拜|周|月|小时|钟头)(?:以前|以后|之前|之后|前|后))"
_PART = r"(?:早上|早晨|清早|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|深夜|凌晨|白天)"
_CLOCK = rf"(?:{_NUM}(?:点|时)(?:半|{_NUM}分|一刻|钟)?|\d{{1,2}}:\d{{2}})"
_DIGIT_CLOCK = r"(?:\d{1,2}(?:点|时)(?:半|\d{1,2}分|钟)?|\d{1,2}:\d{2})"

TIME = re.compile(
    rf"(?:{_DAY}|{_WEEK}|{_MONTH}|{_AGO})(?:{_PART})?(?:{_CLOCK})?"
    rf"|(?:每天|天天){_PART}(?:{_CLOCK})?|{_PART}{_CLOCK}"
    rf"|(?<![\d.]){_DIGIT_CLOCK}"
)


def find_times(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of time expressions in the normalised text."""
    return [m.span() for m in TIME.finditer(text) if m.end() > m.start()]

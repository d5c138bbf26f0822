"""Chinese street addresses by pattern: a place name (a jieba word) before a place suffix
(…路, …大道, …小区, …社区, …花园 …), then house, building, unit and room numbers.

The left edge is the hard part in unsegmented text ("我要举报建设路"): we take the jieba word
that carries the suffix, or the word just before a bare suffix, and only if it looks like a
name (not a pronoun, a verb or a district)."""

from __future__ import annotations

import re
from functools import cache

from nlu.time_expr import find_times
from nlu.tokenize import Token

# Two-character suffixes first: 大街 and 街道 must not be read as a bare 街.
_SUFFIXES = (
    "高铁站", "火车站", "汽车站", "地铁站", "菜市场",
    "胡同", "大道", "大街", "街道", "小区", "花园", "家园", "社区", "公寓", "新村", "大厦",
    "广场", "公园", "医院", "新城", "山庄", "公馆", "名都", "雅居", "华府", "华庭", "豪庭",
    "嘉园", "名苑", "花苑", "市场", "商场", "菜场", "超市", "工地", "小学", "中学", "学校",
    "大学", "酒店", "宾馆", "路", "街", "巷", "弄", "苑", "府", "湾",
)  # fmt: skip
# An estate name may itself end in 里/村/园 before 小区 (幸福里小区, 桃园村小区).
_ESTATE_LINK = {"里", "村", "园", "庄", "苑"}
_ROAD = ("路", "街", "大道", "大街", "巷", "弄", "胡同")
_TAILS = {"口": True, "上": False, "边": False, "旁": False}  # locative: kept in the span?
_DIRECTIONS = set("东西南北中")
_NOT_PLACES = {
    "十字路口", "丁字路口", "高速公路", "步行街", "商业街", "美食街", "小吃街", "大街小巷",
    "人行道", "盲道", "专用道", "单行道", "停车场", "幼儿园",
}  # fmt: skip
_NOT_NAMES = {
    "我们", "你们", "他们", "咱们", "这个", "那个", "这边", "那边", "这里", "那里", "附近",
    "旁边", "周边", "周围", "门口", "楼下", "楼上", "家里", "我家", "整条", "这条", "那条",
    "一条", "这段", "那段", "每个", "所有", "城市", "公共", "隔壁", "对面", "前面", "后面",
    "里面", "外面", "整个", "一些", "很多", "好多", "几个", "一家", "这家", "那家", "小区",
    "社区", "街道", "马路", "公园", "医院", "本地", "当地", "老旧", "一个", "两个", "各个",
    "建议", "希望", "觉得", "可以", "能不能", "地址", "住址", "位置", "地点",
}  # fmt: skip
# jieba part-of-speech tags a name before a bare suffix never has: pronouns, verbs, numbers,
# measure words, adverbs, particles, locatives (a time word only before a road: 青年路).
# A place word (s: 江岸, 滨江) names estates often (江岸花园): allowed.
_NOT_NAME_TAGS = {"r", "p", "c", "d", "m", "q", "f", "y", "e", "o", "v", "zg", "ad"}
_CJK = re.compile(r"[\u4e00-\u9fff]{2,6}")
# A building number right after an estate name: 5栋, 3幢, 12号楼, B座, 2单元.
_BUILDING = re.compile(r"(?:\d+期)?(?:\d+|[一二三四五六七八九十]+|[A-Za-z])(?:栋|幢|号楼|座|单元)")
_MAX_NAME_WORDS = 3
# Places named by a number, which the name test refuses: 市一医院, 第三人民医院, 市二中,
# 八一广场, 五四路, 二七大道.
_NUMBERED_PLACE = re.compile(
    r"(?:[市省区县]|第)[一二三四五六七八九十]{1,2}(?:人民|中心|附属)?(?:医院|中学|小学|中(?![心国午]))"
    r"|(?<![一二三四五六七八九十\d])[一二三四五六七八九十]{2}(?:广场|大道|大街|路|公园)"
)
# District (or town), then road is how an address is written (青云谱区洪都中大道, 莲塘镇澄湖北大道): the
# characters between them name the road even where the word segmenter splits them oddly.
# (a name has no pronoun, particle or locative in it: 社区门口那条路 names no road)
_ROAD_AFTER_DISTRICT = re.compile(
    r"(?<=[区县镇乡])(?![一每整各])(?:(?![这那哪的条个在了是有从往向边旁口里上下前后])[\u4e00-\u9fff]){2,5}?"
    r"(?:大道|大街|路|街)(?![道口])"
)
# A station is a place on its own (从火车站到…): one per city, or named by the city.
_STATIONS = frozenset({"火车站", "高铁站", "汽车站"})
_NUM = r"(?:\d+|[一二三四五六七八九十百]+)"
_AFTER = re.compile(
    rf"(?:[和与跟][\u4e00-\u9fff]{{2,4}}(?:路|街|大道)(?:交叉口|路口|口))?"
    rf"(?:小区)?"
    rf"(?:[东西南北](?:门|侧|口))?"
    rf"(?:{_NUM}号(?:院|楼)?)?"
    rf"(?:\d+期)?"
    rf"(?:(?:(?:{_NUM}|[A-Za-z])(?:栋|幢|号楼|座|单元|楼))+(?:\d{{1,4}}(?:室|号|户)?)?)?"
)


def find_addresses(text: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """(start, end) spans of addresses in the normalised text, left to right, not overlapping."""
    spans: list[tuple[int, int]] = []
    for i, (_word, start, _end) in enumerate(tokens):
        if spans and start < spans[-1][1]:
            continue
        found = _place(tokens, i) or _estate_before_building(text, tokens, i)
        if found is None:
            continue
        begin, stop = found
        stop += _AFTER.match(text, stop).end() - stop
        if spans and not text[spans[-1][1] : begin].strip():
            # road + number + estate + building + room is one address, not two
            begin = spans.pop()[0]
        spans.append((begin, stop))
    for m in _ROAD_AFTER_DISTRICT.finditer(text):
        # a span found inside the road's name cut its left edge (澄湖北大道 read as 湖北大道)
        spans = [(m.start(), e) if m.start() < s < m.end() else (s, e) for s, e in spans]
        if not any(s < m.end() and m.start() < e for s, e in spans):
            stop = _AFTER.match(text, m.end()).end()
            spans.append((m.start(), stop))
    spans.sort()
    for m in _NUMBERED_PLACE.finditer(text):
        inside = [(s, e) for s, e in spans if m.start() <= s and e <= m.end()]  # 人民医院
        spans = [x for x in spans if x not in inside]
        if not any(s < m.end() and m.start() < e for s, e in spans):
            spans.append(m.span())
    return _joined(text, sorted(spans))


def _joined(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans that touch are one address, whichever rule found each part (东湖区八一大道168号
    锦江小区5栋: the road after the district, then the estate and building)."""
    out: list[tuple[int, int]] = []
    for begin, stop in spans:
        if out and not text[out[-1][1] : begin].strip():
            out[-1] = (out[-1][0], max(stop, out[-1][1]))
        else:
            out.append((begin, stop))
    return out


def _place(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """The span of the place whose suffix is in token i, or None."""
    word, start, _end = tokens[i]
    if word in _NOT_PLACES or word.endswith("政府"):
        return None
    suffix, core = _split_suffix(word)
    if suffix is None:
        return None
    stop = start + len(word) if _keeps_tail(word, core, suffix) else start + len(core) + len(suffix)
    if len(core) >= 2 and _is_name(core):
        return start, stop
    prev = tokens[i - 1] if i > 0 else None
    if core == "" and suffix == "小区":
        linked = _linked_estate(tokens, i, stop)
        if linked is not None:
            return linked
    if core == "" and suffix in _STATIONS and not (prev and prev[2] == start and _is_name(prev[0])):
        return start, stop
    if prev is None or prev[2] != start or not _is_name(prev[0]):
        return None
    tag = _tag(prev[0])
    if tag is not None and (
        tag[0] in "u" or tag in _NOT_NAME_TAGS or (tag == "t" and suffix not in _ROAD)
    ):
        return None
    if core == "" or (core in _DIRECTIONS and suffix in _ROAD):
        return prev[1], stop
    return None


def _estate_before_building(text: str, tokens: list[Token], i: int) -> tuple[int, int] | None:
    """An estate whose name has no place suffix (万达星城, 保利香槟国际) is still an address
    when a building number follows it: name words from token i up to "N栋/幢/号楼/座/单元".
    Only name-like words count, so "我住在3栋" or "那个5栋" give nothing."""
    name_end = None
    for j in range(i, min(i + _MAX_NAME_WORDS + 1, len(tokens))):
        word, start, _end = tokens[j]
        if _BUILDING.match(text, start):
            name_end = start
            break
        if not _is_name_word(word) or (j > i and tokens[j - 1][2] != start):
            return None
        if _place(tokens, j) is not None:
            return None  # a name with a place suffix (阳光花园): _place reads it
    if name_end is None or not 2 <= name_end - tokens[i][1] <= 8:
        return None
    if i > 0 and tokens[i - 1][2] == tokens[i][1] and _is_name_word(tokens[i - 1][0]):
        return None  # not the left edge of the name: the loop meets it at an earlier token
    return tokens[i][1], name_end


def _is_name_word(word: str) -> bool:
    tag = _tag(word)
    return (
        _CJK.fullmatch(word) is not None
        and _is_name(word)
        and (tag is None or (tag[0] not in "ut" and tag not in _NOT_NAME_TAGS))
        and not find_times(word)  # jieba tags 今天下午 as a name
    )


def _linked_estate(tokens: list[Token], i: int, stop: int) -> tuple[int, int] | None:
    """幸福里小区: a name, a one-character estate word (里/村/园 …), then 小区."""
    if i < 2:
        return None
    link, name = tokens[i - 1], tokens[i - 2]
    adjacent = name[2] == link[1] and link[2] == tokens[i][1]
    if link[0] in _ESTATE_LINK and adjacent and len(name[0]) >= 2 and _is_name(name[0]):
        return name[1], stop
    return None


def _split_suffix(word: str) -> tuple[str | None, str]:
    """('路', '建设') for 建设路; tails such as 口/上 are stripped first for roads."""
    stem = word
    if len(word) > 1 and word[-1] in _TAILS and word[-2] in "路街道":
        stem = word[:-1]
    for suffix in _SUFFIXES:
        if stem.endswith(suffix):
            if stem is not word and suffix not in _ROAD:
                return None, ""
            return suffix, stem[: len(stem) - len(suffix)]
    return None, ""


def _keeps_tail(word: str, core: str, suffix: str) -> bool:
    tail = word[len(core) + len(suffix) :]
    return bool(tail) and _TAILS.get(tail, False)


def _is_name(word: str) -> bool:
    return (
        _CJK.fullmatch(word) is not None
        and word not in _NOT_NAMES
        and word[-1] not in "区县市省的了在着过到把被给与跟从往向"
        and "不" not in word  # a verb phrase (走不动路, 找不到路) names no road
    )


@cache
def _tags() -> dict[str, str]:
    import jieba.posseg  # loads jieba's tagged dictionary once, on first use

    return jieba.posseg.dt.word_tag_tab


def _tag(word: str) -> str | None:
    return _tags().get(word)


def load_tags() -> None:
    """Load jieba's part-of-speech dictionary now (about a second), not on first use."""
    _tags()

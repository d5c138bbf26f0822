"""Pinyin tokens: per-segment caching must give lazy_pinyin's own readings."""

import pytest
from pypinyin import lazy_pinyin

from kb.pinyin import fold, pinyin_tokens, syllables


@pytest.mark.parametrize(
    "text",
    [
        "重庆银行长春路支行行长",  # 重 chong, 长 chang/zhang, 行 xing/hang by phrase
        "还钱还是还款，还有别的吗",
        "乐乐喜欢音乐",
        "社保卡补半了吗？身分证丢了",
        "长大了长得快",
    ],
)
def test_syllables_are_lazy_pinyins_readings_folded(text: str):
    expected = [fold(s) for s in lazy_pinyin(text) if s.isalpha() and s.isascii()]
    assert [s for _, s in syllables(text)] == expected
    assert [s for _, s in syllables(text)] == [s for _, s in syllables(text)]  # cached


def test_tokens_are_bigrams_of_neighbours_only():
    assert pinyin_tokens("补办，社保") == ["bu_ban", "se_bao"]
    assert pinyin_tokens("公鸡金") == pinyin_tokens("公积金")

import pytest

from channels.sms.keywords import is_opt_in, is_opt_out


@pytest.mark.parametrize(
    "text",
    [
        "退订",
        "退订。",
        "退订！",
        "退订!",
        " TD ",
        "td.",
        "ＴＤ",
        "ｔｄ",
        "T",
        "退 订",
        "退订\n",
        "【退订】",
        "Stop",
    ],
)
def test_unsubscribe_words_are_recognised_however_typed(text: str):
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["订阅", "订阅！", " 订阅。", "ＳＴＡＲＴ", "恢复~"])
def test_subscribe_words_are_recognised_however_typed(text: str):
    assert is_opt_in(text)


@pytest.mark.parametrize("text", ["退订了吗？", "怎么退订", "TDD", "订阅号", ""])
def test_sentences_that_mention_a_keyword_are_messages(text: str):
    assert not is_opt_out(text)
    assert not is_opt_in(text)

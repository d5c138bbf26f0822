"""Colloquial forms rewritten to the articles' words before a query is searched."""

from __future__ import annotations

import pytest

from kb.colloquial import standardize


@pytest.mark.parametrize(
    ("said", "searched"),
    [
        ("娃咋报名", "孩子怎么报名"),
        ("俺想扯证", "我想领结婚证"),
        # a yes-or-no question ending in 不/没/么 asks 吗
        ("能领失业金不", "能领失业金吗"),
        ("有影响没", "有影响吗"),
        ("能报么", "能报吗"),
        # 啥子 is one word; 什么 and 怎么 end in 么 without asking yes or no
        ("要带啥子", "要带什么"),
        ("头一回办护照，要带啥", "头一回办护照，要带什么"),
        ("这个要怎么", "这个要怎么"),
    ],
)
def test_colloquial_questions_read_as_the_articles_say_them(said: str, searched: str):
    assert standardize(said) == searched


@pytest.mark.parametrize(
    ("said", "searched"),
    [
        # Cantonese function words
        ("公积金可唔可以攞出嚟用", "公积金可不可以拿出来用"),
        ("我哋系咪要本人去", "我们是不是要本人去"),
        # south-west, central and northern forms
        ("我屋头老汉儿的社保卡搞落了", "我家里父亲的社保卡丢了"),
        ("燃气么样开户", "燃气怎么开户"),
        ("要带些么子东西", "要带些什么东西"),
        ("驾照寻不着咧", "驾照找不到咧"),
        # 么样 inside a Mandarin word stays
        ("现在怎么样了", "现在怎么样了"),
        ("这么样子不行", "这么样子不行"),
    ],
)
def test_regional_forms_read_as_mandarin(said: str, searched: str):
    assert standardize(said) == searched

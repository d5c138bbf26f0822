import pytest

from primitives.phone import InvalidPhoneNumber, PhoneNumber, mask_digits


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("0791-88001001", "+8679188001001"),
        ("12345", "12345"),
    ],
)
def test_numbers_are_normalised(text: str, e164: str):
    assert PhoneNumber.parse(text).e164 == e164


@pytest.mark.parametrize("text", ["", "abc", "1381234567", "23812345678", "12"])
def test_non_numbers_are_refused_without_echoing_them(text: str):
    with pytest.raises(InvalidPhoneNumber) as err:
        PhoneNumber.parse(text)
    assert text not in str(err.value) or not text


def test_str_and_repr_are_masked():
    p = PhoneNumber.parse("13812345678")
    assert str(p) == "138****5678"
    assert repr(p) == "138****5678"
    assert f"{p}" == "138****5678"
    assert str(PhoneNumber.parse("12345")) == "12345"


def test_phone_numbers_in_free_text_are_masked():
    assert mask_digits("回拨13812345678或0791-88001001") == "回拨138****5678或0791-88001001"
    assert mask_digits("工单20261124-000123") == "工单20261124-000123"
    assert mask_digits("固话079188001001") == "固话079****1001"

"""Agent messages through the customer-service API: a failure is stored on the message with
a reason in Chinese the inbox can show; a retried long message resends nothing twice."""

from __future__ import annotations

import pytest

from tests.channels.wechat.conftest import Rig

OUTSIDE_WINDOW = "已超过48小时互动窗口，无法通过公众号回复，请改用短信"


async def test_45015_is_stored_as_the_delivery_error_in_chinese(rig: Rig):
    rig.wx.user_wrote("o-send-1", at=0)  # long ago: the 48-hour window is closed
    stored = await rig.agent_writes("o-send-1", "您好，您的问题已处理")
    assert stored["delivery"] == "failed"
    assert stored["error"] == OUTSIDE_WINDOW
    assert rig.wx.texts_to("o-send-1") == []


FAILURES = {
    "quota of 5 used up": ([45047], "客服消息条数已达上限"),
    "not following": ([43004], "用户已取消关注公众号"),
    "system busy three times": ([-1, -1, -1], "微信系统繁忙"),
    "unknown errcode": ([99999] * 3, "微信接口错误（错误码99999）"),
}


@pytest.mark.parametrize(("errcodes", "reason"), FAILURES.values(), ids=FAILURES.keys())
async def test_a_final_failure_is_stored_with_its_reason_in_chinese(
    rig: Rig, errcodes: list[int], reason: str
):
    rig.wx.user_wrote("o-send-2")
    rig.wx.fail_next = list(errcodes)
    stored = await rig.agent_writes("o-send-2", "您好")
    assert stored["delivery"] == "failed"
    assert reason in stored["error"]
    assert rig.wx.fail_next == []  # not retried when retrying cannot help


async def test_an_answer_that_is_not_json_is_stored_in_chinese(rig: Rig):
    rig.wx.user_wrote("o-send-3")
    rig.wx.outage_next = 3
    stored = await rig.agent_writes("o-send-3", "您好")
    assert stored["delivery"] == "failed"
    assert stored["error"] == "微信接口应答异常，发送失败"


async def test_a_send_that_fails_once_is_retried_and_marked_sent(rig: Rig):
    rig.wx.user_wrote("o-send-4")
    rig.wx.fail_next = [-1]
    stored = await rig.agent_writes("o-send-4", "您好")
    assert stored["delivery"] == "sent"
    assert stored["error"] == ""
    assert rig.wx.texts_to("o-send-4") == ["您好"]


async def test_a_retried_long_message_does_not_resend_parts_already_delivered(rig: Rig):
    rig.wx.user_wrote("o-send-5")
    text = "一" * 1500  # three customer-service messages
    rig.wx.fail_next = [0, -1]  # the first part goes out, the second fails once
    stored = await rig.agent_writes("o-send-5", text)
    assert stored["delivery"] == "sent"
    parts = rig.wx.texts_to("o-send-5")
    assert len(parts) == 3
    assert "".join(parts) == text

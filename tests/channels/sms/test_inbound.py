"""Keyword SMS through the SMSC emulator: 退订/订阅 however they are typed."""

from channels.sms import REPO
from tests.channels.helpers import eventually
from tests.channels.sms.rig import CITIZEN, CITIZEN_SMPP, Rig, async_value


async def test_unsubscribe_with_punctuation_is_recognised(rig: Rig):
    for i, word in enumerate(["退订。", "退订！", " TD ", "td.", "ＴＤ"]):
        number = f"86137000001{i:02d}"
        assert await rig.smsc.deliver(number, word) == [0]
        assert await rig.app[REPO].opted_out(f"+{number}"), word
        await eventually(
            async_value(lambda n=number: any("您已退订" in t for t in rig.smsc.messages_to(n)))
        )
    assert await rig.inbound() == []  # keywords are not chat messages


async def test_subscribe_with_punctuation_is_recognised(rig: Rig):
    assert await rig.smsc.deliver(CITIZEN_SMPP, "退订") == [0]
    assert await rig.app[REPO].opted_out(CITIZEN)
    assert await rig.smsc.deliver(CITIZEN_SMPP, "订阅！") == [0]
    assert not await rig.app[REPO].opted_out(CITIZEN)


async def test_a_sentence_mentioning_unsubscribe_reaches_the_bot(rig: Rig):
    assert await rig.smsc.deliver(CITIZEN_SMPP, "退订了吗？") == [0]
    assert not await rig.app[REPO].opted_out(CITIZEN)
    assert [m["text"] for m in await rig.inbound()] == ["退订了吗？"]

"""Chat transcripts go only to a number or mailbox the visitor verified, a few an hour."""

from __future__ import annotations

from tests.channels.helpers import eventually
from tests.channels.webchat.conftest import ContactRig
from tests.channels.webchat.tabs import Tab, open_tab

NUMBER = "+8613911112222"
STRANGER = "+8613700000001"
MAILBOX = "citizen@example.com"


async def _chatting(rig: ContactRig) -> Tab:
    tab = await open_tab(rig.hub)
    await tab.until("synced")
    await tab.send(type="message", client_id="c-chat-0000001", text="停水了 http://example.com/x")
    await tab.until("message", sender="bot")
    return tab


async def _verified(rig: ContactRig, tab: Tab, nth: int = 1, **to: str) -> None:
    await tab.send(type="verify", **to)
    await tab.until("verify_sent")
    if "phone" in to:
        code = await rig.sms_code("+86" + to["phone"], nth)
    else:
        code = await rig.mail_code(to["email"], nth)
    await tab.send(type="verify_code", code=code, **to)
    await tab.until("verified")


async def _transcript_sms(rig: ContactRig) -> list[dict]:
    return [d async for d in rig.db["sms_outbound"].find({"purpose": "transcript"})]


async def test_transcript_to_an_unverified_number_is_refused(contact_rig: ContactRig):
    rig = contact_rig
    tab = await _chatting(rig)
    await tab.send(type="transcript", phone="13700000001")
    assert (await tab.until("error"))["reason"] == "请先验证该手机号码，再发送聊天记录"
    await tab.send(type="transcript", phone="13700000001", email=MAILBOX)
    assert (await tab.until("error"))["reason"] == "请先验证该手机号码，再发送聊天记录"
    assert await _transcript_sms(rig) == []
    assert await rig.db["transcript_requests"].count_documents({}) == 0
    assert rig.smsc.messages_to(STRANGER) == []
    await tab.ws.close()


async def test_transcript_to_an_unverified_mailbox_is_refused(contact_rig: ContactRig):
    rig = contact_rig
    tab = await _chatting(rig)
    await _verified(rig, tab, phone="13911112222")  # a verified phone does not vouch for mail
    await tab.send(type="transcript", email=MAILBOX, phone="13911112222")
    assert (await tab.until("error"))["reason"] == "请先验证该邮箱，再发送聊天记录"
    assert await rig.db["mail_outbound"].count_documents({"purpose": "transcript"}) == 0
    await tab.ws.close()


async def test_a_transcript_goes_by_sms_to_the_verified_number(contact_rig: ContactRig):
    rig = contact_rig
    tab = await _chatting(rig)
    await _verified(rig, tab, phone="13911112222")
    await tab.send(type="transcript", phone="139-1111-2222")
    done = await tab.until("transcript_requested")
    assert (done["status"], done["via"]) == ("sent", ["sms"])

    async def transcript() -> list[str]:
        return [t for t in rig.smsc.messages_to(NUMBER) if "聊天记录" in t]

    [text] = await eventually(transcript)
    assert "我：停水了 http://example.com/x" in text
    await tab.ws.close()


async def test_a_transcript_goes_by_email_to_a_verified_mailbox(contact_rig: ContactRig):
    rig = contact_rig
    tab = await _chatting(rig)
    await _verified(rig, tab, email=MAILBOX)
    await tab.send(type="transcript", email="Citizen@Example.com")
    done = await tab.until("transcript_requested")
    assert (done["status"], done["via"]) == ("sent", ["email"])

    async def transcript() -> list[str]:
        return [m.get_content() for m in rig.smtp.to(MAILBOX) if "聊天记录" in m["Subject"]]

    [body] = await eventually(transcript)
    assert "我：停水了" in body
    await tab.ws.close()


async def test_transcripts_past_the_hourly_limits_are_refused(contact_rig: ContactRig):
    rig = contact_rig
    tab = await _chatting(rig)
    await _verified(rig, tab, phone="13911112222")
    for _ in range(3):
        await tab.send(type="transcript", phone="13911112222")
        await tab.until("transcript_requested")
    await tab.send(type="transcript", phone="13911112222")
    assert (await tab.until("error"))["reason"] == "发送聊天记录过于频繁，请稍后再试"
    other = await _chatting(rig)  # the number's own limit, whoever asks
    await _verified(rig, other, nth=2, phone="13911112222")
    await other.send(type="transcript", phone="13911112222")
    assert (await other.until("error"))["reason"] == "发送聊天记录过于频繁，请稍后再试"
    rig.clock.advance(hours=1, minutes=1)
    await tab.send(type="transcript", phone="13911112222")
    await tab.until("transcript_requested")
    assert len(await _transcript_sms(rig)) == 4
    await tab.ws.close()
    await other.ws.close()

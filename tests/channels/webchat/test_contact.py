"""A phone typed in the widget is a contact detail, never an identity; a visitor proves a
number (or a mailbox) with a one-time code, and only then joins that number's history."""

from __future__ import annotations

import hashlib
import logging

import pytest

from tests.channels.webchat.conftest import ContactRig
from tests.channels.webchat.tabs import Tab, open_tab

NUMBER = "+8613911112222"
TYPED = "139 1111 2222"
HISTORY = "我叫王芳，身份证110101199001011234，住幸福路8号，家里停水了"


async def _visitor(rig: ContactRig, **hello: str) -> tuple[Tab, dict[str, str]]:
    """A new visitor who has said 你好 and got the bot's answer."""
    tab = await open_tab(rig.hub, **hello)
    welcome = await tab.until("welcome")
    await tab.until("synced")
    await tab.send(type="message", client_id="c-hello-000001", text="你好")
    await tab.until("message", sender="bot")
    return tab, welcome


async def _replayed(rig: ContactRig, welcome: dict[str, str]) -> list[str]:
    """What the visitor's widget shows after a reload (the whole history)."""
    tab = await open_tab(rig.hub, welcome["visitor"], welcome["token"])
    await tab.until("synced")
    await tab.ws.close()
    return [m["text"] for m in tab.messages()]


async def _owner(rig: ContactRig, key: str) -> str:
    found = await rig.db["customer_identities"].find_one({"_id": key})
    return found["customer_id"] if found else ""


async def _verify(rig: ContactRig, tab: Tab, nth: int = 1) -> dict[str, str]:
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    await tab.send(type="verify_code", phone=TYPED, code=await rig.sms_code(NUMBER, nth))
    return await tab.until("verified")


async def test_a_claimed_phone_does_not_reveal_that_numbers_history(contact_rig: ContactRig):
    rig = contact_rig
    tab, welcome = await _visitor(rig, phone="13911112222")  # nobody holds the number yet
    # ... and then its owner texts the hotline: the outside probe's order of events
    await tab.ws.close()
    await rig.texted_from(NUMBER, HISTORY)
    assert not any("王芳" in text for text in await _replayed(rig, welcome))
    assert await _owner(rig, f"phone:{NUMBER}") != await _owner(rig, f"web:{welcome['visitor']}")


async def test_a_claimed_phone_does_not_join_an_existing_sms_history(contact_rig: ContactRig):
    rig = contact_rig
    await rig.texted_from(NUMBER, HISTORY)
    tab, welcome = await _visitor(rig, phone="13911112222")
    await tab.ws.close()
    shown = await _replayed(rig, welcome)
    assert shown
    assert not any("王芳" in text for text in shown)
    web_owner = await _owner(rig, f"web:{welcome['visitor']}")
    assert web_owner != await _owner(rig, f"phone:{NUMBER}")


async def test_a_claimed_phone_is_the_contact_number_in_the_agents_case_draft(
    contact_rig: ContactRig,
):
    rig = contact_rig
    agent = await rig.hub.staff("agent1", ready=True)
    tab = await open_tab(rig.hub, phone=TYPED)
    await tab.until("synced")
    await tab.send(type="message", client_id="c-human-000001", text="转人工")
    await tab.until("state", state="assigned")
    cid = (await agent.json("GET", "/api/v1/agent/inbox"))["conversations"][0]["id"]
    draft = await agent.json("GET", f"/api/v1/agent/conversations/{cid}/case-draft")
    assert draft["draft"]["contact_phone"] == "13911112222"
    await tab.ws.close()


async def test_a_verified_phone_joins_that_numbers_sms_history(contact_rig: ContactRig):
    rig = contact_rig
    await rig.texted_from(NUMBER, HISTORY)
    tab, welcome = await _visitor(rig)
    await tab.send(type="verify", phone=TYPED)
    sent = await tab.until("verify_sent")
    assert (sent["via"], sent["to"]) == ("sms", "139****2222")
    code = await rig.sms_code(NUMBER)
    await tab.send(type="verify_code", phone=TYPED, code=code)
    assert (await tab.until("verified"))["to"] == "139****2222"
    await tab.ws.close()
    shown = await _replayed(rig, welcome)
    assert HISTORY in shown
    assert "你好" in shown
    assert await _owner(rig, f"web:{welcome['visitor']}") == await _owner(rig, f"phone:{NUMBER}")


async def test_a_wrong_code_is_refused_and_five_wrong_codes_spend_it(contact_rig: ContactRig):
    rig = contact_rig
    await rig.texted_from(NUMBER, HISTORY)
    tab, welcome = await _visitor(rig)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    code = await rig.sms_code(NUMBER)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    reasons = []
    for _ in range(5):
        await tab.send(type="verify_code", phone=TYPED, code=wrong)
        reasons.append((await tab.until("error"))["reason"])
    assert reasons[0] == "验证码不正确，还可以再试4次"
    assert reasons[-1] == "验证码错误次数过多，请重新获取"
    await tab.send(type="verify_code", phone=TYPED, code=code)
    assert (await tab.until("error"))["reason"] == "验证码错误次数过多，请重新获取"
    await tab.ws.close()
    assert not any("王芳" in text for text in await _replayed(rig, welcome))


async def test_a_code_expires_after_ten_minutes(contact_rig: ContactRig):
    rig = contact_rig
    tab, _ = await _visitor(rig)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    code = await rig.sms_code(NUMBER)
    rig.clock.advance(minutes=10, seconds=1)
    await tab.send(type="verify_code", phone=TYPED, code=code)
    assert (await tab.until("error"))["reason"] == "验证码已过期，请重新获取"
    await tab.ws.close()


async def test_a_code_works_once_and_a_newer_code_replaces_it(contact_rig: ContactRig):
    rig = contact_rig
    tab, _ = await _visitor(rig)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    first = await rig.sms_code(NUMBER)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    second = await rig.sms_code(NUMBER, 2)
    if first != second:
        await tab.send(type="verify_code", phone=TYPED, code=first)
        assert (await tab.until("error"))["reason"] == "验证码不正确，还可以再试4次"
    await tab.send(type="verify_code", phone=TYPED, code=second)
    await tab.until("verified")
    await tab.send(type="verify_code", phone=TYPED, code=second)
    assert (await tab.until("error"))["reason"] == "验证码已使用，请重新获取"
    await tab.ws.close()


async def test_codes_are_stored_only_as_a_keyed_hash(contact_rig: ContactRig):
    rig = contact_rig
    tab, _ = await _visitor(rig)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    code = await rig.sms_code(NUMBER)
    [stored] = [d async for d in rig.db["contact_verifications"].find()]
    assert code not in repr(stored)
    assert hashlib.sha256(code.encode()).hexdigest() != stored["code_hash"]
    await tab.ws.close()


async def test_codes_past_the_hourly_limits_are_refused(contact_rig: ContactRig):
    rig = contact_rig
    tab, _ = await _visitor(rig)
    for _ in range(3):
        await tab.send(type="verify", phone=TYPED)
        await tab.until("verify_sent")
    await tab.send(type="verify", phone=TYPED)
    assert (await tab.until("error"))["reason"] == "验证码发送过于频繁，请稍后再试"
    other, _ = await _visitor(rig)  # the number's limit holds for every visitor
    await other.send(type="verify", phone=TYPED)
    assert (await other.until("error"))["reason"] == "验证码发送过于频繁，请稍后再试"
    for n in range(2):  # the visitor's own limit: five codes, whatever the numbers
        await tab.send(type="verify", phone=f"1380000000{n}")
        await tab.until("verify_sent")
    await tab.send(type="verify", phone="13800000009")
    assert (await tab.until("error"))["reason"] == "验证码发送过于频繁，请稍后再试"
    rig.clock.advance(hours=1, minutes=1)
    await tab.send(type="verify", phone=TYPED)
    await tab.until("verify_sent")
    await rig.sms_code(NUMBER, 4)  # an hour on, the number gets its fourth code
    await tab.ws.close()
    await other.ws.close()


async def test_a_mailbox_is_verified_by_a_code_mailed_to_it(contact_rig: ContactRig):
    rig = contact_rig
    tab, _ = await _visitor(rig)
    await tab.send(type="verify", email="Citizen@Example.com")
    sent = await tab.until("verify_sent")
    assert (sent["via"], sent["to"]) == ("email", "c***@example.com")
    await tab.send(
        type="verify_code",
        email="citizen@example.com",
        code=await rig.mail_code("citizen@example.com"),
    )
    assert (await tab.until("verified"))["via"] == "email"
    await tab.ws.close()


async def test_phone_numbers_stay_masked_in_the_logs(
    contact_rig: ContactRig, caplog: pytest.LogCaptureFixture
):
    rig = contact_rig
    caplog.set_level(logging.DEBUG)
    await rig.texted_from(NUMBER, HISTORY)
    tab, _ = await _visitor(rig, phone=TYPED)
    await _verify(rig, tab)
    await tab.ws.close()
    logged = "\n".join(
        repr(r.__dict__) for r in caplog.records if r.name.startswith("channels.webchat")
    )
    assert "139****2222" in logged
    assert "13911112222" not in logged

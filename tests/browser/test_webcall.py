"""Issue 19, walked in a real browser without a PBX: a caller dials the hotline from the test-
call page (a WAV file instead of the microphone), hears the IVR (captions), presses 0, waits
in the same queue as the chats and reaches the agent, who sees the call in the inbox with its
call controls, hangs up, and hears nothing more while the caller rates the call with 1; the
talk's recording plays in the transcript."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from playwright.async_api import Browser, expect

from agent_web.keys import CASE_DESK, ROUTER
from cases.model import CaseType, NewCase
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from telephony.call_records import CallOutcome, CallQuery
from telephony.keys import CALL_RECORDS, VOICE
from tests.agent_web.conftest import EntityBot, seed_staff
from tests.browser.conftest import SCREENSHOTS, serve
from tests.browser.test_inbox_agent import sign_in
from tests.channels.helpers import eventually


def _silence_wav(path: Path, seconds: float = 1.0) -> Path:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(int(16000 * seconds)))
    path.write_bytes(out.getvalue())
    return path


async def test_a_caller_reaches_an_agent_from_the_test_call_page_and_rates_the_call(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    app = create_app(settings, bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    agent_ctx = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    caller_ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    agent = await agent_ctx.new_page()
    agent.on("dialog", lambda d: d.accept())
    caller = await caller_ctx.new_page()
    errors: list[str] = []
    for page in (agent, caller):
        page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await sign_in(agent, base, "agent1")
        await agent.get_by_test_id("presence-ready").click()
        await expect(agent.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await caller.goto(base + "/webcall")
        await caller.get_by_test_id("dial-file").set_input_files(
            str(_silence_wav(tmp_path / "caller.wav"))
        )
        captions = caller.get_by_test_id("captions")
        await expect(captions).to_contain_text("欢迎致电12345", timeout=15_000)
        await expect(caller.get_by_test_id("call-status")).to_have_text("已接通热线")
        # no speech model: the menu offers keys only; 0 is a person
        await expect(captions).to_contain_text("人工服务请按0", timeout=15_000)
        await caller.get_by_role("button", name="0", exact=True).click()
        await expect(caller.get_by_test_id("call-status")).to_have_text(
            "人工坐席已接听", timeout=15_000
        )
        item = agent.get_by_test_id("conversation-item").first
        await expect(item).to_be_visible()
        await item.click()
        controls = agent.get_by_test_id("call-controls")
        await expect(controls).to_be_visible()
        await agent.screenshot(path=str(SCREENSHOTS / "inbox-voice-call.png"))
        await caller.screenshot(path=str(SCREENSHOTS / "webcall-phone.png"))
        # the agent files a case from the call (建工单); the talk's recording will be on it
        served = app[VOICE].calls.live_calls()[0]
        case = await app[CASE_DESK].open(
            NewCase(
                CaseType.CONSULT,
                "来电咨询",
                customer_id=served.customer.id,
                conversation_id=served.conversation_id,
                channel="voice",
            ),
            "agent1",
        )
        await agent.get_by_test_id("btn-call-hangup").click()
        await expect(controls).to_be_hidden()
        # the caller stays for the survey, rates 1 and hears the goodbye
        await expect(captions).to_contain_text("请对本次服务进行评价", timeout=15_000)
        await caller.get_by_role("button", name="1", exact=True).click()
        await expect(caller.get_by_test_id("call-status")).to_have_text(
            "通话已结束", timeout=15_000
        )

        async def rated():
            calls = await app[CALL_RECORDS].search(CallQuery(limit=5))
            done = [c for c in calls if c.ended_at and c.survey == "1" and c.recording]
            return done[0] if done else None

        record = await eventually(rated, timeout_s=15)
        assert record.outcome is CallOutcome.ANSWERED
        assert record.agent == "agent1"
        conv = await app[ROUTER].conversation(record.conversation_id)
        assert conv.rating == "1"
        # the talk's recording plays in the transcript (the agent may read this conversation)
        await expect(agent.get_by_test_id("message-audio")).to_have_count(1, timeout=10_000)
        # and on the case page, playable
        await agent.goto(f"{base}/cases/{case.number}")
        await expect(agent.get_by_test_id("case-attachment-audio")).to_have_count(1)
        # the supervisor finds the call in today's call records, with its recording
        boss_ctx = await browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN"
        )
        boss = await boss_ctx.new_page()
        boss.on("pageerror", lambda e: errors.append(str(e)))
        await sign_in(boss, base, "super")
        await boss.goto(base + "/supervisor")
        row = boss.get_by_test_id("call-row").first
        await expect(row).to_contain_text("已接听")
        await expect(row).to_contain_text("满意")
        await expect(row.get_by_test_id("call-recording")).to_have_count(1)
        await expect(boss.get_by_test_id("call-summary")).to_contain_text("接听1")
        await boss_ctx.close()
        assert not errors, errors
    finally:
        await agent_ctx.close()
        await caller_ctx.close()
        await server.close()

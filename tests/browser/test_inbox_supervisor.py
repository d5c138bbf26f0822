"""The supervisors' board in a real browser: it moves live as customers queue and agents
work; the supervisor monitors a conversation, whispers, takes over, sees emergencies."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Browser, Dialog, expect

from agent_web.keys import CONVERSATIONS
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from tests.agent_web.conftest import EntityBot, Staff, seed_staff
from tests.browser.conftest import SCREENSHOTS, serve
from tests.browser.test_inbox_agent import customer_says


async def test_supervisor_board_moves_live_and_the_supervisor_steps_in(
    browser: Browser, settings: Settings, db: Database
):
    await seed_staff(db)
    app = create_app(settings, bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    http = aiohttp.ClientSession()
    agent = Staff(server, "agent1")  # the agent works through the API meanwhile
    try:
        await page.goto(base + "/login")
        await page.get_by_test_id("login-name").fill("super")
        await page.get_by_test_id("login-password").fill("correct-horse-1")
        await page.get_by_test_id("login-submit").click()
        await page.wait_for_url(base + "/")
        await page.goto(base + "/supervisor")
        await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-connected", "true")
        general = page.locator('[data-testid="queue-row"][data-queue="general"]')
        await expect(general).to_have_attribute("data-waiting", "0")

        sent = await customer_says(http, base, "citizen-1", "转人工")  # nobody is ready yet
        cid = sent["conversation_id"]
        await expect(general).to_have_attribute("data-waiting", "1")  # live, no reload

        assert (await agent.sign_in()).status == 200
        await agent.json("POST", "/api/v1/agent/status", {"status": "ready"})
        await expect(general).to_have_attribute("data-waiting", "0")
        row = page.locator('[data-testid="agent-row"][data-login="agent1"]')
        await expect(row).to_have_attribute("data-status", "ready")
        await expect(row.get_by_test_id("agent-load")).to_have_text("1/4")

        conversation = page.locator(
            f'[data-testid="active-conversation"][data-conversation-id="{cid}"]'
        )
        await conversation.get_by_test_id("monitor-open").click()
        monitor = page.get_by_test_id("monitor-transcript")
        await expect(monitor).to_contain_text("转人工")
        await customer_says(http, base, "citizen-1", "我要投诉小区物业乱收费")
        await expect(monitor).to_contain_text("我要投诉小区物业乱收费")  # live
        await agent.json(
            "POST",
            f"/api/v1/agent/conversations/{cid}/messages",
            {"text": "您好，请问是哪个小区？", "client_id": "r1"},
            status=201,
        )
        await expect(monitor).to_contain_text("您好，请问是哪个小区？")

        await page.get_by_test_id("whisper-input").fill("注意核实收费标准")
        await page.get_by_test_id("whisper-send").click()
        await expect(monitor.locator('[data-internal="true"]')).to_contain_text("注意核实收费标准")
        seen = await agent.json("GET", f"/api/v1/agent/conversations/{cid}")
        assert "注意核实收费标准" in [m["text"] for m in seen["messages"] if m["internal"]]

        await customer_says(http, base, "citizen-2", "救命，我家老人摔倒了")
        banner = page.get_by_test_id("alert-banner")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("紧急")
        # the citizen's own words and the address, not the routing code
        await expect(banner.get_by_test_id("alert-words")).to_contain_text("救命，我家老人摔倒了")
        await expect(banner.get_by_test_id("alert-address")).to_contain_text("地址：")
        assert "emergency" not in (await banner.text_content() or "")
        # overlaid, so the page below keeps its place
        assert await banner.evaluate("b => getComputedStyle(b).position") == "fixed"
        await expect(
            page.locator('[data-testid="queue-row"][data-queue="emergency"]')
        ).to_have_attribute("data-waiting", "1")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "inbox-supervisor.png"))

        asked: list[str] = []

        async def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            await dialog.accept()

        page.on("dialog", answer)
        await page.get_by_test_id("take-over").click()
        await expect(conversation.get_by_test_id("active-agent")).to_have_text("值班长王敏")
        conv = await app[CONVERSATIONS].get(cid)
        assert conv.agent == "super"
        assert asked == ["确定强插接管该会话？接管后由您直接服务市民，原坐席将退出并收到通知。"]
        assert errors == []
    finally:
        await agent.close()
        await http.close()
        await context.close()
        await server.close()

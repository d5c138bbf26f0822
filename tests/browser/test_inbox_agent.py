"""The agent's inbox in a real browser: sign in, go ready, get a customer live (no reload),
read the screen pop, accept, reply; customer text is shown as text, never run as HTML."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page, expect

from agent_web.keys import CASE_DESK, CONVERSATIONS, CUSTOMERS, KB_SEARCH, OUTBOX, ROUTER
from cases.model import CaseType, NewCase
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from routing.outbox import DeliveryFailed
from tests.agent_web.conftest import (
    PASSWORD,
    REST,
    EntityBot,
    FakeKb,
    routing_file,
    seed_staff,
)
from tests.browser.conftest import SCREENSHOTS, serve

XSS = "<img src=x onerror=alert(1)>"


async def sign_in(page: Page, base: str, login: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_test_id("login-name").fill(login)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(base + "/")
    await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-connected", "true")


async def customer_says(http: aiohttp.ClientSession, base: str, sender: str, text: str) -> dict:
    resp = await http.post(base + REST, json={"sender_id": sender, "text": text})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_agent_gets_a_customer_live_accepts_and_replies(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    # The repair report stays with the bot until the customer asks for a person.
    path = routing_file(
        tmp_path,
        escalation={"intents": ["ask_human", "complaint", "emergency_help"]},
        general={"auto_accept": False, "offer_timeout_s": 90},
    )
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    dialogs: list[str] = []
    page = await context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )

        first = await customer_says(http, base, "visitor-1", "报修 厨房下水道堵了")
        customer_id = (await app[CONVERSATIONS].get(first["conversation_id"])).customer_id
        await app[CUSTOMERS].set_tags(customer_id, frozenset({"important"}))
        app[ROUTER].forget_customer(customer_id)
        earlier = NewCase(
            CaseType.REPAIR, "楼道路灯不亮", customer_id=customer_id, category=("01", "0101")
        )
        await app[CASE_DESK].open(earlier, "agent2")
        sent = await customer_says(http, base, "visitor-1", "转人工")
        cid = sent["conversation_id"]

        # The offer appears live, with its countdown, and the screen pop opens on it.
        offer = page.locator(f'[data-testid="offer-card"][data-conversation-id="{cid}"]')
        await expect(offer).to_be_visible()
        await expect(offer.get_by_test_id("offer-countdown")).to_contain_text("秒")
        await expect(offer.get_by_test_id("channel-icon")).to_have_attribute("data-channel", "rest")
        await expect(page.locator("body")).to_have_attribute(
            "data-last-notification", "新的会话邀请"
        )
        pop = page.get_by_test_id("screen-pop")
        await expect(pop.get_by_test_id("customer-tag")).to_have_attribute("data-tag", "important")
        await expect(pop.get_by_test_id("nlu-summary")).to_contain_text("报修")
        await expect(pop.get_by_test_id("nlu-summary")).to_contain_text("转人工")
        await expect(pop.get_by_test_id("nlu-summary-entity").first).to_be_visible()
        await expect(page.get_by_test_id("nlu-intent").first).to_be_visible()
        await expect(pop.get_by_test_id("history-case")).to_contain_text("楼道路灯不亮")

        await offer.get_by_test_id("offer-accept").click()
        item = page.locator(f'[data-testid="conversation-item"][data-conversation-id="{cid}"]')
        await expect(item).to_be_visible()
        await expect(page.get_by_test_id("offers").get_by_test_id("offer-card")).to_have_count(0)
        await expect(page.get_by_test_id("composer-input")).to_be_visible()

        await page.get_by_test_id("composer-input").fill("您好，我是李娜，马上为您登记报修")
        await page.get_by_test_id("composer-input").press("Enter")
        transcript = page.get_by_test_id("transcript")
        await expect(transcript).to_contain_text("您好，我是李娜，马上为您登记报修")
        await app[OUTBOX].drain()
        polled = await (await http.get(base + REST, params={"sender_id": "visitor-1"})).json()
        assert "您好，我是李娜，马上为您登记报修" in [m["text"] for m in polled["messages"]]

        # Customer text arrives live and stays text.
        await customer_says(http, base, "visitor-1", XSS)
        last = transcript.locator('[data-testid="message"][data-sender="customer"]').last
        await expect(last.get_by_test_id("message-text")).to_have_text(XSS)
        assert await transcript.locator("img").count() == 0
        await customer_says(http, base, "visitor-1", "地址是阳光花园3栋2单元501，谢谢")
        await expect(transcript).to_contain_text("阳光花园3栋2单元501")
        await page.get_by_test_id("tab-profile").click()
        assert dialogs == []
        assert errors == []

        await customer_says(http, base, "visitor-2", "新生儿医保怎么办")
        await customer_says(http, base, "visitor-2", "转人工")
        await expect(page.get_by_test_id("offer-card")).to_have_count(1)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "inbox-main.png"))
    finally:
        await http.close()
        await context.close()
        await server.close()


async def test_canned_reply_and_case_from_the_conversation(
    browser: Browser, settings: Settings, db: Database
):
    await seed_staff(db)
    app = create_app(settings, bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.goto(base + "/canned")
        await page.get_by_test_id("canned-shortcut").fill("dz")
        await page.get_by_test_id("canned-title").fill("询问地址")
        await page.get_by_test_id("canned-text").fill("请告诉我您的详细地址，方便我们上门处理。")
        await page.get_by_test_id("canned-save").click()
        await expect(page.get_by_test_id("canned-row")).to_have_count(1)
        await page.goto(base + "/")
        await expect(page.get_by_test_id("ws-state")).to_have_attribute("data-connected", "true")
        await page.get_by_test_id("presence-ready").click()
        await customer_says(http, base, "visitor-3", "报修 厨房下水道堵了")
        sent = await customer_says(http, base, "visitor-3", "转人工")
        # auto-assigned: the conversation opens by itself
        await expect(page.get_by_test_id("composer-input")).to_be_visible()
        composer = page.get_by_test_id("composer-input")
        await composer.fill("/d")
        await expect(page.get_by_test_id("canned-suggestion")).to_have_count(1)
        await composer.press("Enter")
        await expect(composer).to_have_value("请告诉我您的详细地址，方便我们上门处理。")
        await composer.press("Enter")
        await expect(page.get_by_test_id("transcript")).to_contain_text("方便我们上门处理")

        await page.get_by_test_id("btn-case").click()
        await expect(page.get_by_test_id("case-phone")).to_have_value("13812345678")
        await expect(page.get_by_test_id("case-type")).to_have_value("repair")
        await page.get_by_test_id("case-cat-1").select_option("01")
        await page.get_by_test_id("case-cat-2").select_option("0101")
        await page.get_by_test_id("case-cat-3").select_option("010103")
        await page.get_by_test_id("case-cat-4").select_option("01010301")
        await page.get_by_test_id("case-submit").click()
        await expect(page.get_by_test_id("case-result")).to_contain_text("已创建")
        await expect(page.get_by_test_id("case-result")).to_contain_text("下水道堵塞")
        cases = await app[CONVERSATIONS].get(sent["conversation_id"])
        assert cases.id == sent["conversation_id"]
        await page.get_by_test_id("tab-kb").click()
        await page.get_by_test_id("kb-query").fill("医保")
        await page.get_by_test_id("kb-search").click()
        await expect(page.get_by_test_id("kb-unavailable")).to_be_visible()
        await expect(page.get_by_test_id("kb-unavailable")).to_have_text("知识库未加载")
    finally:
        await http.close()
        await context.close()
        await server.close()


async def test_kb_hits_are_highlighted_and_inserted_into_the_composer(
    browser: Browser, settings: Settings, db: Database
):
    await seed_staff(db)
    app = create_app(settings, bot=EntityBot())
    app[KB_SEARCH] = FakeKb()
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await customer_says(http, base, "visitor-4", "转人工")
        await expect(page.get_by_test_id("composer-input")).to_be_visible()
        await page.get_by_test_id("tab-kb").click()
        await page.get_by_test_id("kb-query").fill("yibao")
        await page.get_by_test_id("kb-search").click()
        hit = page.get_by_test_id("kb-hit")
        await expect(hit.locator("mark")).to_have_text("医保")
        await expect(hit.get_by_test_id("kb-fragment")).to_contain_text(
            "<img src=x onerror=alert(1)>"
        )
        assert await hit.locator("img").count() == 0
        await hit.get_by_test_id("kb-insert").click()
        await expect(page.get_by_test_id("composer-input")).to_have_value("出生后90天内办理。")
        assert dialogs == []
    finally:
        await http.close()
        await context.close()
        await server.close()


class WindowClosedSender:
    """A channel that refuses every send for good, as WeChat does after 48 hours (45015)."""

    async def send(self, message: object) -> None:
        raise DeliveryFailed(
            "已超过48小时互动窗口，无法通过公众号回复，请改用短信", retryable=False
        )


async def test_a_reply_the_citizen_did_not_get_is_marked_live_with_the_reason(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        sent = await customer_says(http, base, "visitor-48h", "转人工")
        cid = sent["conversation_id"]
        app[OUTBOX].register("rest", WindowClosedSender())
        item = page.locator(f'[data-testid="conversation-item"][data-conversation-id="{cid}"]')
        await item.click()
        await page.get_by_test_id("composer-input").fill("您好，请问还需要什么帮助？")
        await page.get_by_test_id("composer-input").press("Enter")
        mine = page.get_by_test_id("transcript").locator('[data-sender="agent"]').last
        await expect(mine.get_by_test_id("message-failed")).to_contain_text(
            "未送达：已超过48小时互动窗口"
        )
        # and after a reload, from the stored delivery state
        await page.reload()
        await item.click()
        mine = page.get_by_test_id("transcript").locator('[data-sender="agent"]').last
        await expect(mine.get_by_test_id("message-failed")).to_contain_text("请改用短信")
        assert errors == []
    finally:
        await http.close()
        await context.close()
        await server.close()

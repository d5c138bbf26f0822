"""The widget on a 390 × 844 phone, as a citizen meets it: the demo page fits the screen, the
open panel is the whole visible screen with its header and composer on it, an empty chat
greets and offers the popular questions, a reload keeps the panel open and the queue bar,
nobody promises a wait when no agent is signed in, replies while minimised show an unread
badge, "正在输入…" goes away, and "正在为您接通" comes before the agent's greeting."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from hub.app import create_app
from hub.channel_wiring import popular_questions
from hub.settings import DATA_DIR, Settings
from mongo.client import Database
from tests.agent_web.conftest import routing_file, seed_staff
from tests.browser.conftest import SCREENSHOTS, serve
from tests.browser.test_inbox_agent import sign_in
from tests.fakes.bot import FakeBot

PHONE = {"width": 390, "height": 844}
# Keeps the widget's socket reachable, to play a frame the server would send.
CATCH_SOCKET = """
const Real = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new Real(...args);
  window.__hubwcLastSocket = ws;
  return ws;
};
window.WebSocket.prototype = Real.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""


def _said(page: Page, sender: str):
    return page.locator(f'[data-testid="wc-msg"][data-sender="{sender}"]')


async def _phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )


async def _inside_viewport(page: Page, testid: str) -> None:
    box = await page.get_by_test_id(testid).bounding_box()
    assert box is not None, testid
    size = page.viewport_size
    assert size is not None
    assert box["x"] >= 0, (testid, box)
    assert box["y"] >= 0, (testid, box)
    assert box["x"] + box["width"] <= size["width"] + 0.5, (testid, box)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (testid, box)


def test_the_popular_questions_are_knowledge_base_questions():
    articles = (DATA_DIR / "kb" / "articles.yaml").read_text(encoding="utf-8")
    popular = popular_questions()
    assert 4 <= len(popular) <= 8
    for question in popular:
        assert f"question: {question}\n" in articles, question


async def test_on_a_phone_the_page_fits_and_the_panel_fills_the_screen(
    browser: Browser, settings: Settings
):
    server = await serve(create_app(settings, bot=FakeBot()))
    base = str(server.make_url("")).rstrip("/")
    citizen = await _phone(browser)
    errors: list[str] = []
    try:
        page = await citizen.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(base + "/webchat/demo")
        # Nothing wider than the phone: no sideways scrolling, the launcher on screen.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await _inside_viewport(page, "wc-launcher")
        await page.screenshot(path=str(SCREENSHOTS / "widget-phone-closed.png"))

        await page.get_by_test_id("wc-launcher").click()
        await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
        # The panel is the screen: header (status) and composer (input, send) both visible.
        panel = await page.get_by_test_id("wc-panel").bounding_box()
        assert panel == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
        for testid in ("wc-status", "wc-input", "wc-send", "wc-human"):
            await _inside_viewport(page, testid)

        # An empty chat greets and offers the popular questions as buttons.
        greeting = _said(page, "bot").first
        await expect(greeting).to_contain_text("您好")
        buttons = page.get_by_test_id("wc-popular-question")
        await expect(buttons).to_have_count(len(popular_questions()))
        await expect(buttons.first).to_have_text(popular_questions()[0])
        await page.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))

        # A tap sends the question; the bot answers it.
        await page.get_by_text("水费怎么缴纳？", exact=True).click()
        await expect(_said(page, "customer").last).to_contain_text("水费怎么缴纳？")
        await expect(_said(page, "customer").last).to_have_attribute("data-state", "sent")
        await expect(_said(page, "bot")).to_have_count(2)

        # The keyboard takes half the screen: the panel shrinks with the visible viewport and
        # the composer stays on screen (dvh and visualViewport).
        await page.set_viewport_size({"width": 390, "height": 420})
        await page.get_by_test_id("wc-input").focus()
        for testid in ("wc-status", "wc-input", "wc-send"):
            await _inside_viewport(page, testid)
        assert errors == []
    finally:
        await citizen.close()
        await server.close()


async def test_no_agent_signed_in_a_reload_restores_the_panel_and_the_honest_queue_bar(
    browser: Browser, settings: Settings
):
    server = await serve(create_app(settings, bot=FakeBot()))
    base = str(server.make_url("")).rstrip("/")
    citizen = await _phone(browser)
    errors: list[str] = []
    try:
        page = await citizen.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(base + "/webchat/demo")
        await page.get_by_test_id("wc-launcher").click()
        await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
        await page.get_by_test_id("wc-human").click()
        bar = page.get_by_test_id("wc-position")
        await expect(bar).to_be_visible()
        await expect(bar).to_have_attribute("data-kind", "no-agent")
        await expect(bar).to_contain_text("暂无人工客服在线")
        await expect(bar).not_to_contain_text("预计等待")

        # "正在输入…" is the bot's turn: it ends with the turn.
        await expect(page.get_by_test_id("wc-typing")).to_be_hidden()
        await page.screenshot(path=str(SCREENSHOTS / "widget-phone-no-agent.png"))

        await page.reload()
        await expect(page.get_by_test_id("wc-panel")).to_be_visible()
        await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
        await expect(bar).to_be_visible()
        await expect(bar).to_contain_text("暂无人工客服在线")
        await expect(_said(page, "customer")).to_have_count(1)  # the history came back, once
        assert await page.get_by_test_id("wc-popular").count() == 0  # no greeting over history
        assert errors == []
    finally:
        await citizen.close()
        await server.close()


async def test_typing_that_stops_disappears(browser: Browser, settings: Settings):
    server = await serve(create_app(settings, bot=FakeBot()))
    base = str(server.make_url("")).rstrip("/")
    citizen = await _phone(browser)
    try:
        page = await citizen.new_page()
        await page.add_init_script(CATCH_SOCKET)
        await page.clock.install()
        await page.goto(base + "/webchat/demo")
        await page.get_by_test_id("wc-launcher").click()
        await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
        # A typing frame with nothing after it (an agent who stopped typing).
        await page.evaluate(
            """() => {
              const ev = new MessageEvent("message", {data: '{"type":"typing"}'});
              window.__hubwcLastSocket.dispatchEvent(ev);
            }"""
        )
        await expect(page.get_by_test_id("wc-typing")).to_be_visible()
        await page.clock.run_for(7000)
        await expect(page.get_by_test_id("wc-typing")).to_be_hidden()
    finally:
        await citizen.close()
        await server.close()


async def test_the_agent_greets_after_the_hand_over_and_replies_raise_an_unread_badge(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, general={"auto_accept": True})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=FakeBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    citizen = await _phone(browser)
    office = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    try:
        agent = await office.new_page()
        await sign_in(agent, base, "agent1")
        await agent.get_by_test_id("presence-ready").click()

        page = await citizen.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(base + "/webchat/demo")
        await page.get_by_test_id("wc-launcher").click()
        await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
        await page.get_by_test_id("wc-human").click()
        await expect(page.get_by_test_id("wc-log")).to_contain_text("为您服务")
        texts = await page.locator('[data-testid="wc-msg"]:not([data-greeting])').all_inner_texts()
        connecting = next(i for i, t in enumerate(texts) if "正在为您接通" in t)
        greeting = next(i for i, t in enumerate(texts) if "为您服务" in t)
        assert connecting < greeting, texts

        # Minimised, a reply raises the badge; opening clears it.
        await page.get_by_role("button", name="收起").click()
        badge = page.get_by_test_id("wc-unread")
        await expect(badge).to_be_hidden()
        await agent.get_by_test_id("composer-input").fill("您好，请问有什么可以帮您？")
        await agent.get_by_test_id("composer-input").press("Enter")
        await expect(badge).to_have_text("1")
        await _inside_viewport(page, "wc-unread")
        await page.screenshot(path=str(SCREENSHOTS / "widget-phone-unread.png"))
        await page.get_by_test_id("wc-launcher").click()
        await expect(badge).to_be_hidden()
        await expect(_said(page, "agent").last).to_contain_text("请问有什么可以帮您")
        assert errors == []
    finally:
        await citizen.close()
        await office.close()
        await server.close()

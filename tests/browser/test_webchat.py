"""A citizen on a web page with the widget, and an agent in the inbox, in two real browsers:
knowledge answer, hand-over, live replies both ways, a network drop mid-conversation that
loses and duplicates nothing, and a rating at the end. And a citizen who proves their phone
number with a code sent by SMS, and then sees the SMS conversation they had before."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect
from pydantic import SecretStr

from agent_web.keys import KNOWLEDGE_BASE
from hub.app import create_app
from hub.bot import NluKbBot
from hub.settings import DATA_DIR, Settings
from kb.embedder import DEFAULT_EMBEDDER, make_embedder
from kb.service import KnowledgeBase
from kb.thresholds import load_profile
from mongo.client import Database
from mongo.kb_articles import MongoArticleRepository
from nlu.embedded import EmbeddedConfig, EmbeddedParser
from tests.agent_web.conftest import routing_file, seed_staff
from tests.browser.conftest import SCREENSHOTS, serve
from tests.browser.test_inbox_agent import sign_in
from tests.channels.helpers import eventually
from tests.emulators.smsc import PASSWORD, SYSTEM_ID, SmscEmulator
from tests.fakes.bot import FakeBot
from tests.kb.conftest import ARTICLES


async def _real_bot(db: Database, tmp_path: Path) -> tuple[NluKbBot, KnowledgeBase]:
    """The production bot classes: the shipped NLU data, a small knowledge base."""
    repo = MongoArticleRepository(db)
    await repo.add_many(list(ARTICLES))
    embedder = make_embedder(DEFAULT_EMBEDDER)
    kb = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    await kb.load(repo)
    parser = EmbeddedParser.from_file(DATA_DIR / "nlu", EmbeddedConfig(semantic=False))
    return NluKbBot(parser, kb), kb


def _said(page: Page, sender: str):
    return page.locator(f'[data-testid="wc-msg"][data-sender="{sender}"]')


async def test_visitor_and_agent_chat_through_a_network_drop(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    bot, kb = await _real_bot(db, tmp_path)
    path = routing_file(tmp_path, general={"auto_accept": False, "offer_timeout_s": 90})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=bot)
    app[KNOWLEDGE_BASE] = kb
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    citizen = await browser.new_context(viewport={"width": 420, "height": 760}, locale="zh-CN")
    office = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    try:
        visitor = await citizen.new_page()
        visitor.on("pageerror", lambda e: errors.append(str(e)))
        await visitor.goto(base + "/webchat/demo")
        await visitor.get_by_test_id("wc-launcher").click()
        await expect(visitor.get_by_test_id("wc-status")).to_have_text("在线")

        # A knowledge-base question gets the article's answer.
        await visitor.get_by_test_id("wc-input").fill("刚出生的宝宝怎么参加医保？")
        await visitor.get_by_test_id("wc-send").click()
        await expect(_said(visitor, "bot").last).to_contain_text("90天内")
        await expect(_said(visitor, "customer").last).to_have_attribute("data-state", "sent")
        await visitor.screenshot(path=str(SCREENSHOTS / "webchat-widget.png"))

        # The agent is ready; the visitor asks for a person; the offer arrives live.
        agent = await office.new_page()
        agent.on("pageerror", lambda e: errors.append(str(e)))
        await sign_in(agent, base, "agent1")
        await agent.get_by_test_id("presence-ready").click()
        await visitor.get_by_test_id("wc-human").click()
        offer = agent.get_by_test_id("offer-card")
        await expect(offer).to_be_visible()
        await expect(offer.get_by_test_id("channel-icon")).to_have_attribute(
            "data-channel", "webchat"
        )
        await expect(agent.get_by_test_id("screen-pop")).to_contain_text("转人工")
        await offer.get_by_test_id("offer-accept").click()
        await agent.get_by_test_id("composer-input").fill("您好，我是李娜，请问有什么可以帮您？")
        await agent.get_by_test_id("composer-input").press("Enter")
        await expect(_said(visitor, "agent").last).to_contain_text(
            "您好，我是李娜，请问有什么可以帮您？"
        )

        # The visitor's network drops; both sides keep writing; it comes back.
        await citizen.set_offline(True)
        await visitor.evaluate("window.dispatchEvent(new Event('offline'))")
        await expect(visitor.get_by_test_id("wc-status")).not_to_have_text("在线")
        await visitor.get_by_test_id("wc-input").fill("我家在阳光花园3栋2单元501")
        await visitor.get_by_test_id("wc-send").click()
        await expect(_said(visitor, "customer").last).to_have_attribute("data-state", "pending")
        await agent.get_by_test_id("composer-input").fill("好的，请问是哪个区？")
        await agent.get_by_test_id("composer-input").press("Enter")
        await citizen.set_offline(False)
        await visitor.evaluate("window.dispatchEvent(new Event('online'))")
        await expect(visitor.get_by_test_id("wc-status")).to_have_text("在线")
        await expect(_said(visitor, "agent").last).to_contain_text("好的，请问是哪个区？")
        await expect(_said(visitor, "customer").last).to_have_attribute("data-state", "sent")
        transcript = agent.get_by_test_id("transcript")
        await expect(transcript).to_contain_text("我家在阳光花园3栋2单元501")

        # Nothing lost, nothing twice — on either side.
        visitor_texts = await visitor.get_by_test_id("wc-msg").all_inner_texts()
        for text in (
            "我家在阳光花园3栋2单元501",
            "好的，请问是哪个区？",
            "刚出生的宝宝怎么参加医保？",
        ):
            assert sum(text in t for t in visitor_texts) == 1, (text, visitor_texts)
        agent_texts = await transcript.get_by_test_id("message").all_inner_texts()
        assert sum("阳光花园3栋2单元501" in t for t in agent_texts) == 1
        stored = await db["messages"].count_documents({"text": "我家在阳光花园3栋2单元501"})
        assert stored == 1
        await agent.screenshot(path=str(SCREENSHOTS / "webchat-agent.png"))

        # The agent closes; the widget asks for a rating, which is stored.
        await agent.get_by_test_id("btn-close").click()
        await agent.get_by_test_id("close-confirm").click()
        await visitor.get_by_test_id("wc-rate-satisfied").click()
        await visitor.get_by_test_id("wc-rate-comment").fill("服务很耐心")
        await visitor.get_by_test_id("wc-rate-submit").click()
        await expect(visitor.get_by_test_id("wc-rated")).to_be_visible()
        rating = await db["ratings"].find_one({})
        assert rating["value"] == "satisfied"
        assert rating["comment"] == "服务很耐心"
        assert rating["agent"] == "agent1"

        # A transcript asked for by e-mail: refused until the visitor verifies the address.
        await visitor.get_by_test_id("wc-transcript").click()
        await visitor.get_by_test_id("wc-transcript-email").fill("citizen@example.com")
        await visitor.get_by_test_id("wc-transcript-send").click()
        await expect(visitor.get_by_test_id("wc-notice").last).to_have_text(
            "请先验证该邮箱，再发送聊天记录"
        )
        assert await db["transcript_requests"].count_documents({}) == 0
        assert errors == []
    finally:
        await citizen.close()
        await office.close()
        await server.close()


async def test_a_visitor_verifies_their_phone_and_then_sees_their_sms_history(
    browser: Browser, settings: Settings, db: Database
):
    async with SmscEmulator() as smsc:
        sms = {
            "smpp_host": "127.0.0.1",
            "smpp_port": smsc.port,
            "smpp_system_id": SYSTEM_ID,
            "smpp_password": SecretStr(PASSWORD),
        }
        server = await serve(create_app(settings.model_copy(update=sms), bot=FakeBot()))
        base = str(server.make_url("")).rstrip("/")
        citizen = await browser.new_context(viewport={"width": 420, "height": 760}, locale="zh-CN")
        errors: list[str] = []
        try:
            # Last week the citizen texted the hotline from their phone.
            assert await smsc.deliver("8613911112222", "幸福路8号停水了，请尽快处理") == [0]

            page = await citizen.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(base + "/webchat/demo")
            await page.get_by_test_id("wc-launcher").click()
            await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
            await page.get_by_test_id("wc-input").fill("你好")
            await page.get_by_test_id("wc-send").click()
            await expect(_said(page, "bot").last).to_be_visible()
            await expect(page.get_by_test_id("wc-log")).not_to_contain_text("幸福路8号")

            await page.get_by_test_id("wc-verify").click()
            await page.get_by_test_id("wc-verify-target").fill("139 1111 2222")
            await page.get_by_test_id("wc-verify-send").click()
            await expect(page.get_by_test_id("wc-verify-sent")).to_contain_text("139****2222")
            await expect(page.get_by_test_id("wc-log")).not_to_contain_text("幸福路8号")

            async def code() -> str | None:
                for text in smsc.messages_to("+8613911112222"):
                    if found := re.search(r"验证码为(\d{6})", text):
                        return found.group(1)
                return None

            await page.get_by_test_id("wc-verify-code").fill(await eventually(code))
            await page.get_by_test_id("wc-verify-submit").click()
            await expect(page.get_by_test_id("wc-verified")).to_contain_text("139****2222")
            await expect(page.get_by_test_id("wc-log")).to_contain_text("幸福路8号停水了")
            await expect(page.get_by_test_id("wc-status")).to_have_text("在线")
            said = await _said(page, "customer").all_inner_texts()
            assert len(said) == 2  # the SMS first, then today's chat, each once
            assert "幸福路8号停水了" in said[0]
            assert "你好" in said[1]
            assert errors == []
        finally:
            await citizen.close()
            await server.close()

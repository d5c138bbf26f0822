"""Admin and department accounts in a real browser."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from cases.departments import Department
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from mongo.people import MongoDepartmentRepository
from primitives.clock import FixedClock
from tests.agent_web.conftest import PASSWORD, EntityBot, seed_staff
from tests.browser.conftest import serve


async def test_admin_creates_an_agent_and_department_staff_get_no_seat(
    browser: Browser, settings: Settings, db: Database
):
    await seed_staff(db)
    await MongoDepartmentRepository(db).upsert(Department("water", "自来水公司"))
    # a still clock: the sign-in backoff below does not run out while the browser clicks
    server = await serve(create_app(settings, bot=EntityBot(), clock=FixedClock()))
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await page.goto(base + "/login")
        await page.get_by_test_id("login-name").fill("admin")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await page.wait_for_url(base + "/admin")
        await expect(page.get_by_test_id("user-row")).to_have_count(5)
        await page.get_by_test_id("user-login").fill("agent7")
        await page.get_by_test_id("user-name").fill("话务员孙丽")
        await page.get_by_test_id("user-password").fill("agent7-password")
        await page.get_by_test_id("user-skill-general").fill("6")
        await page.get_by_test_id("user-endpoint").fill("PJSIP/1007")  # calls ring this phone
        await page.get_by_test_id("user-save").click()
        await expect(page.get_by_test_id("user-result")).to_have_text("已保存")
        await expect(page.locator('[data-testid="user-row"][data-login="agent7"]')).to_contain_text(
            "综合咨询:6"
        )
        # a taken login is refused in Chinese; departments are picked from the list
        await page.get_by_test_id("user-new").click()
        await page.get_by_test_id("user-login").fill("agent1")
        await page.get_by_test_id("user-name").fill("重名")
        await page.get_by_test_id("user-password").fill("agent1-password")
        await page.get_by_test_id("user-department").select_option("water")
        await page.get_by_test_id("user-save").click()
        await expect(page.get_by_test_id("user-result")).to_have_text(
            "账号 agent1 已被使用，请换一个"
        )
        # the IVR flows, read only, in Chinese: where the blacklist screen and key 0 lead
        flow = page.locator('[data-testid="ivr-flow"][data-flow="hotline"]')
        await expect(flow.locator('[data-step="gate"]')).to_contain_text("如果黑名单来电 → refuse")
        await expect(flow.locator('[data-step="main_menu"]')).to_contain_text(
            "按0或说“人工”“客服” → agent"
        )
        await expect(page.get_by_test_id("ivr-speech")).to_contain_text("仅按键")

        other = await browser.new_context(locale="zh-CN")
        dept = await other.new_page()
        await dept.goto(base + "/login")
        await dept.get_by_test_id("login-name").fill("water1")
        await dept.get_by_test_id("login-password").fill(PASSWORD)
        await dept.get_by_test_id("login-submit").click()
        await dept.wait_for_url(base + "/dept")  # department staff work in their portal
        await expect(dept.get_by_test_id("dept-cases")).to_be_visible()
        for _ in range(5):  # the address's free attempts
            await dept.goto(base + "/login")
            await dept.get_by_test_id("login-name").fill("agent2")
            await dept.get_by_test_id("login-password").fill("wrong-password")
            await dept.get_by_test_id("login-submit").click()
            await expect(dept.get_by_test_id("login-error")).to_have_text("账号或密码错误")
        await dept.get_by_test_id("login-submit").click()
        await expect(dept.get_by_test_id("login-error")).to_have_text("尝试次数过多，请1秒后再试")
        await other.close()
        assert errors == []
    finally:
        await context.close()
        await server.close()


async def test_admin_edits_the_knowledge_base_and_the_bot_uses_it(
    browser: Browser, settings: Settings, db: Database, tmp_path
):
    from pathlib import Path

    from agent_web.keys import KNOWLEDGE_BASE
    from hub.bot import NluKbBot
    from kb.embedder import DEFAULT_EMBEDDER, make_embedder
    from kb.service import KnowledgeBase
    from kb.thresholds import load_profile
    from mongo.kb_articles import MongoArticleRepository
    from nlu.embedded import EmbeddedConfig, EmbeddedParser
    from tests.kb.conftest import ARTICLES

    await seed_staff(db)
    repo = MongoArticleRepository(db)
    await repo.add_many(list(ARTICLES))
    embedder = make_embedder(DEFAULT_EMBEDDER)
    kb = KnowledgeBase(embedder, load_profile(None, embedder.name), cache_root=tmp_path)
    await kb.load(repo)
    tiny = Path(__file__).parents[1] / "data" / "nlu" / "tiny.yml"
    parser = EmbeddedParser.from_file(tiny, EmbeddedConfig(semantic=False))
    app = create_app(settings, bot=NluKbBot(parser, kb))
    app[KNOWLEDGE_BASE] = kb
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await page.goto(base + "/login")
        await page.get_by_test_id("login-name").fill("admin")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await page.wait_for_url(base + "/admin")
        await expect(page.get_by_test_id("kb-row")).to_have_count(len(ARTICLES))
        await expect(page.get_by_test_id("kb-page")).to_have_text("第 1 / 1 页")  # 20 a page
        await expect(page.get_by_test_id("kb-next")).to_be_disabled()
        await page.get_by_test_id("kb-new").click()
        await page.get_by_test_id("kb-id").fill("kb-0200")
        await page.get_by_test_id("kb-category").fill("交通出行 / 公交")
        await page.get_by_test_id("kb-question").fill("公交卡丢了怎么挂失？")
        await page.get_by_test_id("kb-similar").fill("交通卡掉了怎么办\n公交卡遗失了去哪挂失")
        await page.get_by_test_id("kb-answer").fill("<b>请拨打</b>公交集团客服热线挂失。")
        await page.get_by_test_id("kb-save").click()
        await expect(page.get_by_test_id("kb-result")).to_have_text("已保存，机器人已可使用")
        row = page.locator('[data-testid="kb-row"][data-id="kb-0200"]')
        await expect(row).to_contain_text("公交卡丢了怎么挂失？")
        await page.get_by_test_id("kb-filter").fill("挂失")
        await expect(page.get_by_test_id("kb-row")).to_have_count(1)
        assert (await repo.get("kb-0200")).category == ("交通出行", "公交")
        reply = await _rest(base, "我的交通卡掉了怎么办")
        assert reply["replies"][0]["kb_article_id"] == "kb-0200"
        assert errors == []
    finally:
        await context.close()
        await server.close()


async def _rest(base: str, text: str) -> dict:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            base + "/api/v1/channels/rest/messages", json={"sender_id": "kb-web", "text": text}
        ) as resp,
    ):
        assert resp.status == 200
        return await resp.json()

"""Admin and department accounts in a real browser."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from tests.agent_web.conftest import PASSWORD, EntityBot, seed_staff
from tests.browser.conftest import serve


async def test_admin_creates_an_agent_and_department_staff_get_no_seat(
    browser: Browser, settings: Settings, db: Database
):
    await seed_staff(db)
    server = await serve(create_app(settings, bot=EntityBot()))
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
        await page.get_by_test_id("user-save").click()
        await expect(page.get_by_test_id("user-result")).to_have_text("已保存")
        await expect(page.locator('[data-testid="user-row"][data-login="agent7"]')).to_contain_text(
            "general:6"
        )

        other = await browser.new_context(locale="zh-CN")
        dept = await other.new_page()
        await dept.goto(base + "/login")
        await dept.get_by_test_id("login-name").fill("water1")
        await dept.get_by_test_id("login-password").fill(PASSWORD)
        await dept.get_by_test_id("login-submit").click()
        await dept.wait_for_url(base + "/")
        await expect(dept.get_by_test_id("no-seat")).to_be_visible()
        for _ in range(4):
            await dept.goto(base + "/login")
            await dept.get_by_test_id("login-name").fill("agent2")
            await dept.get_by_test_id("login-password").fill("wrong-password")
            await dept.get_by_test_id("login-submit").click()
            await expect(dept.get_by_test_id("login-error")).to_have_text("账号或密码错误")
        await dept.get_by_test_id("login-submit").click()
        await expect(dept.get_by_test_id("login-error")).to_contain_text("账号已锁定")
        await other.close()
        assert errors == []
    finally:
        await context.close()
        await server.close()

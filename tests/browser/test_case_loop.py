"""The hotline case loop in real browsers, through the real app: an agent files a complaint from
a chat and dispatches it in one click on the catalogue's suggestion; a repeat report of the same
matter is merged at intake; the water company signs for it in its portal and asks for more time;
the supervisor grants it and supervises the case; the department replies with a photo; the
citizen answers the SMS survey with 1 (满意); the agent closes it. Every step is on the timeline.
An overdue case is red at the top of the workbench."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, BrowserContext, Page, expect
from pydantic import SecretStr

from agent_web.keys import CASE_DESK, CLOCK
from cases.departments import Department
from cases.model import CaseType, NewCase
from cases.workflow import CaseAction, CaseCommand
from hub.app import create_app
from hub.settings import DATA_DIR, Settings
from mongo.client import Database
from mongo.people import MongoAgentRepository, MongoDepartmentRepository
from primitives.yaml_io import load_yaml
from routing.agents import Agent, Role
from tests.agent_web.conftest import (
    PASSWORD,
    REST,
    EntityBot,
    password_hash,
    routing_file,
    seed_staff,
)
from tests.browser.conftest import SCREENSHOTS, serve
from tests.channels.helpers import eventually
from tests.emulators.smsc import PASSWORD as SMSC_PASSWORD
from tests.emulators.smsc import SYSTEM_ID, SmscEmulator

CITIZEN_SMPP = "8613812345678"  # the number EntityBot hears in a repair report
ADDRESS = "青山湖区阳光花园3栋2单元501"


def png(width: int = 160, height: int = 100) -> bytes:
    """A small real PNG (a blue rectangle)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x1d\x5f\xd1" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def seed_departments(db: Database) -> None:
    repo = MongoDepartmentRepository(db)
    for d in load_yaml(Path(DATA_DIR / "demo.yaml"))["departments"]:
        await repo.upsert(Department(d["code"], d["name"], d.get("phone")))


CSP_VIOLATIONS: list[str] = []  # the strict policy refused something a page did


async def sign_in(context: BrowserContext, base: str, login: str, lands: str) -> Page:
    page = await context.new_page()
    page.on(
        "console",
        lambda m: CSP_VIOLATIONS.append(m.text) if "Content Security Policy" in m.text else None,
    )
    await page.goto(base + "/login")
    await page.get_by_test_id("login-name").fill(login)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url(base + lands)
    return page


async def customer_says(http: aiohttp.ClientSession, base: str, sender: str, text: str) -> dict:
    resp = await http.post(base + REST, json={"sender_id": sender, "text": text})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def quiet(page: Page) -> None:
    """No toasts over the screenshot."""
    await page.evaluate("document.getElementById('toasts')?.remove()")


def timeline(page: Page, action: str):
    return page.locator(f'[data-testid="timeline-event"][data-action="{action}"]')


async def file_case(page: Page) -> None:
    """Fill the inbox's case form for the open conversation as a complaint about the drain."""
    await page.get_by_test_id("btn-case").click()
    await expect(page.get_by_test_id("case-form")).to_have_attribute("data-draft", re.compile("."))
    await expect(page.get_by_test_id("case-phone")).to_have_value("13812345678")
    await expect(page.get_by_test_id("case-address")).to_have_value(ADDRESS)
    await page.get_by_test_id("case-type").select_option("complaint")
    await page.get_by_test_id("case-cat-1").select_option("01")
    await page.get_by_test_id("case-cat-2").select_option("0101")
    await page.get_by_test_id("case-cat-3").select_option("010103")
    await page.get_by_test_id("case-cat-4").select_option("01010301")


async def test_a_complaint_goes_round_the_whole_loop(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    await seed_departments(db)
    async with SmscEmulator() as smsc:
        configured = settings.model_copy(
            update={
                "hub_routing_config": routing_file(tmp_path),
                "smpp_host": "127.0.0.1",
                "smpp_port": smsc.port,
                "smpp_system_id": SYSTEM_ID,
                "smpp_password": SecretStr(SMSC_PASSWORD),
                "hub_outbox_backoff_s": (0.05, 0.05),
            }
        )
        app = create_app(configured, bot=EntityBot())
        server = await serve(app)
        base = str(server.make_url("")).rstrip("/")
        office = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        water = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        boss = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        http = aiohttp.ClientSession()
        errors: list[str] = []
        try:
            await smsc.wait_bound()
            desk = app[CASE_DESK]
            # Earlier cases: one long overdue (red, on top of the workbench), one fresh, and
            # one the water company has not signed for in time.
            now = app[CLOCK].now()
            earlier = (
                ("小区路灯不亮", "chengguan", {}),
                ("幸福路窨井盖缺失", "chengguan", {"due_at": now - timedelta(days=2)}),
                ("红星路水表漏水", "water", {"sign_by": now - timedelta(minutes=20)}),
            )
            numbers = []
            for title, department, late in earlier:
                case = await desk.open(
                    NewCase(CaseType.PUBLIC_AFFAIRS, title, category=("01", "0101")), "agent2"
                )
                await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, "agent2"))
                await desk.act(
                    case.number,
                    CaseCommand(CaseAction.DISPATCH, "agent2", department=department),
                )
                if late:
                    await db["cases"].update_one({"number": case.number}, {"$set": late})
                numbers.append(case.number)
            _, overdue_number, unsigned_number = numbers

            # The agent takes the chat and files a complaint from it.
            agent = await sign_in(office, base, "agent1", "/")
            agent.on("pageerror", lambda e: errors.append(str(e)))
            await expect(agent.get_by_test_id("ws-state")).to_have_attribute(
                "data-connected", "true"
            )
            await agent.get_by_test_id("presence-ready").click()
            await expect(agent.get_by_test_id("presence-status")).to_have_attribute(
                "data-status", "ready"
            )
            await customer_says(http, base, "visitor-1", "报修 厨房下水道堵了，污水倒灌")
            await customer_says(http, base, "visitor-1", "转人工")
            await expect(agent.get_by_test_id("composer-input")).to_be_visible()
            await file_case(agent)
            await agent.get_by_test_id("case-submit").click()
            result = agent.get_by_test_id("case-result")
            await expect(result).to_contain_text("已创建")
            number = await result.get_attribute("data-number")
            assert number is not None
            assert re.fullmatch(r"\d{8}-\d{6}", number), number
            link = agent.get_by_test_id("case-result-link")
            assert await link.get_attribute("href") == f"/cases/{number}"

            # The case page: accepted at once; the catalogue suggests the water company.
            await agent.goto(f"{base}/cases/{number}")
            await expect(agent.get_by_test_id("case-state")).to_have_text("已受理")
            await expect(agent.get_by_test_id("case-contact")).to_have_text("13812345678")
            await expect(agent.get_by_test_id("dispatch-suggestion")).to_contain_text("市水务集团")
            await expect(agent.get_by_test_id("dispatch-lead")).to_have_value("water")
            await expect(agent.get_by_test_id("assist-chengguan")).to_be_checked()
            await expect(agent.get_by_test_id("dispatch-days")).to_have_value("3")
            await agent.get_by_test_id("do-dispatch").click()  # one click
            await expect(agent.get_by_test_id("case-state")).to_have_text("已派单")
            await expect(agent.get_by_test_id("case-department")).to_have_text("市水务集团")
            await expect(agent.get_by_test_id("case-assisting")).to_have_text("市城市管理局")
            await expect(timeline(agent, "dispatch")).to_contain_text("市水务集团")

            # The workbench: the overdue case is red, at the top of the list.
            await agent.get_by_test_id("link-workbench").click()
            await agent.get_by_test_id("worklist-all").click()
            rows = agent.get_by_test_id("case-row")
            await expect(rows).to_have_count(4)
            await expect(rows.first).to_have_attribute("data-number", overdue_number)
            await expect(rows.first.get_by_test_id("case-light")).to_have_text("超期")
            await expect(rows.first.get_by_test_id("case-light")).to_have_attribute(
                "data-light", "red"
            )
            mine = agent.locator(f'[data-testid="case-row"][data-number="{number}"]')
            await expect(mine.get_by_test_id("case-light")).to_have_text("正常")

            # A neighbour reports the same blocked drain: merged into the case at intake.
            second = await customer_says(http, base, "visitor-2", "报修 下水道又堵了")
            await customer_says(http, base, "visitor-2", "转人工")
            await agent.goto(base + "/")
            item = agent.locator(
                f'[data-testid="conversation-item"][data-conversation-id="{second["conversation_id"]}"]'
            )
            await item.click()
            await expect(agent.get_by_test_id("composer-input")).to_be_visible()
            await file_case(agent)
            similar = agent.locator(f'[data-testid="similar-case"][data-number="{number}"]')
            await expect(similar).to_be_visible()
            await similar.get_by_test_id("merge-into").click()
            await expect(result).to_contain_text(f"已并入工单 {number}")
            await expect(result).to_have_attribute("data-number", number)

            # The water company's portal: the case is there, with its sign-off deadline.
            dept = await sign_in(water, base, "water1", "/dept")
            dept.on("pageerror", lambda e: errors.append(str(e)))
            row = dept.locator(f'[data-testid="case-row"][data-number="{number}"]')
            await expect(row).to_be_visible()
            await expect(row.get_by_test_id("case-sign-by")).to_have_attribute("data-late", "false")
            await expect(row.get_by_test_id("case-light")).to_have_attribute("data-light", "green")
            unsigned = dept.locator(f'[data-testid="case-row"][data-number="{unsigned_number}"]')
            await expect(unsigned.get_by_test_id("case-sign-by")).to_have_attribute(
                "data-late", "true"
            )
            await expect(unsigned.get_by_test_id("case-sign-by")).to_contain_text("签收超时")
            await expect(
                dept.locator(f'[data-testid="case-row"][data-number="{overdue_number}"]')
            ).to_have_count(0)  # the city management bureau's case is not shown here
            await dept.screenshot(path=str(SCREENSHOTS / "department-portal.png"))
            await row.get_by_test_id("case-title").click()
            await dept.wait_for_url(f"{base}/cases/{number}")
            await expect(dept.get_by_test_id("case-contact")).not_to_have_text("13812345678")
            await expect(dept.get_by_test_id("do-dispatch")).to_have_count(0)
            # A second tab holds the same form: after the sign-off there, it is stale.
            stale = await water.new_page()
            stale.on("pageerror", lambda e: errors.append(str(e)))
            await stale.goto(f"{base}/cases/{number}")
            await expect(stale.get_by_test_id("do-confirm")).to_be_visible()
            await dept.get_by_test_id("do-confirm").click()
            await expect(dept.get_by_test_id("case-state")).to_have_text("已签收")
            await stale.get_by_test_id("do-confirm").click()
            await expect(stale.get_by_test_id("toast").last).to_contain_text("工单已被他人修改")
            await expect(stale.get_by_test_id("case-state")).to_have_text("已签收")
            await expect(stale.get_by_test_id("do-confirm")).to_have_count(0)
            await stale.close()
            ask = dept.get_by_test_id("action-request_extension")
            await ask.get_by_test_id("extension-days").fill("2")
            await ask.get_by_test_id("action-reason").fill("需更换主管道，等待材料到货")
            await ask.get_by_test_id("do-request_extension").click()
            await expect(dept.get_by_test_id("case-extension")).to_have_text("延期待审")

            # The supervisor grants the extension and supervises the case.
            chief = await sign_in(boss, base, "super", "/")
            chief.on("pageerror", lambda e: errors.append(str(e)))
            await chief.goto(base + "/supervisor")
            await expect(chief.get_by_test_id("case-counter-overdue")).to_have_attribute(
                "data-value", "1"
            )
            await expect(chief.get_by_test_id("case-counter-sign_off_late")).to_have_attribute(
                "data-value", "1"
            )
            await chief.get_by_test_id("case-counter-overdue").click()
            await chief.wait_for_url(re.compile(r"/cases\?list=overdue"))
            await expect(chief.get_by_test_id("case-row")).to_have_count(1)
            await chief.goto(f"{base}/cases/{number}")
            audit = chief.get_by_test_id("action-audit_extension")
            await expect(audit.get_by_test_id("extension-request")).to_contain_text("等待材料到货")
            await expect(audit.get_by_test_id("approve-days")).to_have_value("2")
            await audit.get_by_test_id("do-approve_extension").click()
            await expect(chief.get_by_test_id("case-extension")).to_have_text("已延期")
            watch = chief.get_by_test_id("action-supervise")
            await watch.get_by_test_id("action-reason").fill("涉及民生，请加快处理")
            await watch.get_by_test_id("do-supervise").click()
            await expect(chief.get_by_test_id("case-supervised")).to_contain_text("请加快处理")

            # The department sees it supervised, on top, and replies with a photo.
            await dept.goto(base + "/dept")
            first = dept.get_by_test_id("case-row").first
            await expect(first).to_have_attribute("data-number", number)
            await expect(first.get_by_test_id("case-supervised")).to_have_text("督办")
            await first.click()
            await dept.wait_for_url(f"{base}/cases/{number}")
            await expect(dept.get_by_test_id("case-supervised")).to_be_visible()
            reply = dept.get_by_test_id("action-reply")
            await reply.get_by_test_id("reply-text").fill(
                "已疏通下水道并更换破损管段，经检查排水正常。"
            )
            await reply.get_by_test_id("reply-files").set_input_files(
                files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": png()}]
            )
            await reply.get_by_test_id("do-reply").click()
            await expect(dept.get_by_test_id("case-state")).to_have_text("已回复")
            image = dept.get_by_test_id("case-attachment-image")
            await expect(image).to_be_visible()
            assert await image.evaluate("img => img.naturalWidth") == 160
            await expect(dept.get_by_test_id("no-actions")).to_be_visible()

            # The citizen answers the SMS survey with 1: 满意.
            async def surveyed() -> bool:
                return any("回复1满意" in t for t in smsc.messages_to("+" + CITIZEN_SMPP))

            await eventually(surveyed)
            assert await smsc.deliver(CITIZEN_SMPP, "1") == [0]

            async def revisited() -> bool:
                stored = await db["cases"].find_one({"number": number})
                return stored is not None and stored["state"] == "revisited"

            await eventually(revisited)

            # The agent closes it; the timeline tells the whole story.
            await agent.goto(f"{base}/cases/{number}")
            await expect(agent.get_by_test_id("case-satisfaction")).to_have_text("满意")
            await agent.get_by_test_id("do-close").click()
            await expect(agent.get_by_test_id("case-state")).to_have_text("已办结")
            for action in (
                "accept",
                "dispatch",
                "merge",
                "confirm",
                "request_extension",
                "approve_extension",
                "supervise",
                "reply",
                "revisit",
                "close",
            ):
                await expect(timeline(agent, action)).to_have_count(1)
            await expect(timeline(agent, "request_extension")).to_contain_text("等待材料到货")
            await expect(timeline(agent, "reply")).to_contain_text("现场照片.png")
            await expect(timeline(agent, "revisit")).to_contain_text("满意")
            await expect(agent.get_by_test_id("case-attachment-image")).to_be_visible()
            # the SMS sent about the case, with their delivery state, on the case page
            notices = agent.get_by_test_id("case-notice")
            for purpose in ("accepted", "dispatched", "department", "completed", "closed"):
                await expect(
                    notices.and_(agent.locator(f"[data-purpose={purpose}]"))
                ).to_have_count(1)
            await quiet(agent)
            await agent.screenshot(path=str(SCREENSHOTS / "case-page.png"), full_page=True)

            # The workbench searches by address; the screenshot shows all three cases.
            await agent.goto(base + "/cases?list=all")
            rows = agent.get_by_test_id("case-row")
            await expect(rows).to_have_count(4)
            await agent.get_by_test_id("q-address").fill("阳光花园")
            await agent.get_by_test_id("q-submit").click()
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_have_attribute("data-number", number)
            await agent.get_by_test_id("q-reset").click()
            await expect(rows).to_have_count(4)
            await quiet(agent)
            await agent.screenshot(path=str(SCREENSHOTS / "case-workbench.png"))
            assert errors == []
            assert CSP_VIOLATIONS == []
        finally:
            await http.close()
            for context in (office, water, boss):
                await context.close()
            await server.close()


async def test_a_wrong_dispatch_is_returned_and_redispatched_and_a_consultation_closes_at_once(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    await seed_departments(db)
    await MongoAgentRepository(db).upsert(
        Agent("chengguan1", "城管局陈静", frozenset({Role.DEPARTMENT}), department="chengguan"),
        password_hash=password_hash(),
    )
    app = create_app(
        settings.model_copy(update={"hub_routing_config": routing_file(tmp_path)}),
        bot=EntityBot(),
    )
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    contexts = [
        await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        for _ in range(3)
    ]
    http = aiohttp.ClientSession()
    errors: list[str] = []
    try:
        # The admin gives street lighting (0101) four working days in the dispatch catalogue.
        admin = await sign_in(contexts[0], base, "admin", "/admin")
        admin.on("pageerror", lambda e: errors.append(str(e)))
        entry = admin.locator('[data-testid="catalogue-row"][data-category="0101"]')
        await expect(entry.get_by_test_id("catalogue-lead")).to_have_text("市城市管理局")
        await expect(entry.get_by_test_id("catalogue-days")).to_have_text("5")
        await entry.get_by_test_id("catalogue-edit").click()
        await expect(admin.get_by_test_id("cat-cat-2")).to_have_value("0101")
        await expect(admin.get_by_test_id("cat-lead")).to_have_value("chengguan")
        await admin.get_by_test_id("cat-days").fill("4")
        await admin.get_by_test_id("cat-save").click()
        await expect(admin.get_by_test_id("cat-result")).to_have_text("已保存")
        await expect(entry.get_by_test_id("catalogue-days")).to_have_text("4")

        desk = app[CASE_DESK]
        case = await desk.open(
            NewCase(
                CaseType.COMPLAINT,
                "红星路地下管道漏水",
                description="路面一直冒水",
                category=("01", "0101", "010101"),
            ),
            "agent1",
        )
        await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, "agent1"))
        number = case.number

        # The agent dispatches on the catalogue's suggestion: the city management bureau.
        agent = await sign_in(contexts[1], base, "agent1", "/")
        agent.on("pageerror", lambda e: errors.append(str(e)))
        await agent.goto(f"{base}/cases/{number}")
        await expect(agent.get_by_test_id("dispatch-suggestion")).to_contain_text("市城市管理局")
        await expect(agent.get_by_test_id("dispatch-suggestion")).to_contain_text("4个工作日")
        await agent.get_by_test_id("do-dispatch").click()
        await expect(agent.get_by_test_id("case-department")).to_have_text("市城市管理局")

        # The bureau says it is not its matter (退单).
        bureau = await sign_in(contexts[2], base, "chengguan1", "/dept")
        bureau.on("pageerror", lambda e: errors.append(str(e)))
        await bureau.locator(f'[data-testid="case-row"][data-number="{number}"]').click()
        await bureau.wait_for_url(f"{base}/cases/{number}")
        back = bureau.get_by_test_id("action-return")
        await expect(back.get_by_test_id("do-return")).to_be_disabled()  # a reason first
        await back.get_by_test_id("action-reason").fill("属供水管网漏水，应由市水务集团处理")
        await back.get_by_test_id("do-return").click()
        await expect(bureau.get_by_test_id("case-state")).to_have_text("退单待审")
        await expect(bureau.get_by_test_id("no-actions")).to_be_visible()

        # The centre approves the return and re-dispatches (改派) to the water company.
        await agent.reload()
        audit = agent.get_by_test_id("action-audit_return")
        await expect(audit.get_by_test_id("return-reason")).to_contain_text("应由市水务集团处理")
        await audit.get_by_test_id("do-approve_return").click()
        await expect(agent.get_by_test_id("case-state")).to_have_text("已受理")
        await agent.get_by_test_id("dispatch-lead").select_option("water")
        await expect(agent.get_by_test_id("assist-water")).to_be_disabled()
        await agent.get_by_test_id("do-dispatch").click()
        await expect(agent.get_by_test_id("case-department")).to_have_text("市水务集团")
        await expect(timeline(agent, "dispatch")).to_have_count(2)
        await expect(timeline(agent, "return")).to_contain_text("属供水管网漏水")
        await expect(timeline(agent, "approve_return")).to_have_count(1)
        await expect(timeline(agent, "dispatch").last).to_contain_text("市水务集团")

        # The bureau no longer sees the case: it is another department's now.
        await bureau.goto(base + "/dept")
        await expect(bureau.get_by_test_id("cases-empty")).to_be_visible()

        # A consultation answered on the spot is filed and closed at once (直接办结).
        await agent.goto(base + "/")
        await expect(agent.get_by_test_id("ws-state")).to_have_attribute("data-connected", "true")
        await agent.get_by_test_id("presence-ready").click()
        await customer_says(http, base, "visitor-9", "转人工")
        await expect(agent.get_by_test_id("composer-input")).to_be_visible()
        await agent.get_by_test_id("btn-case").click()
        await expect(agent.get_by_test_id("case-form")).to_have_attribute(
            "data-draft", re.compile(".")
        )
        await agent.get_by_test_id("case-type").select_option("repair")
        await expect(agent.get_by_test_id("case-close-now-box")).to_be_hidden()
        await agent.get_by_test_id("case-type").select_option("consult")
        await agent.get_by_test_id("case-title").fill("咨询新生儿医保办理")
        await agent.get_by_test_id("case-close-now").check()
        await agent.get_by_test_id("case-answer").fill("出生后90天内到社区办理居民医保参保登记。")
        await expect(agent.get_by_test_id("case-submit")).to_have_text("保存并办结")
        await agent.get_by_test_id("case-submit").click()
        result = agent.get_by_test_id("case-result")
        await expect(result).to_contain_text("已创建并办结")
        consult = await result.get_attribute("data-number")
        await agent.goto(f"{base}/cases/{consult}")
        await expect(agent.get_by_test_id("case-state")).to_have_text("已办结")
        await expect(agent.get_by_test_id("case-reply")).to_contain_text("90天内")
        assert errors == []
        assert CSP_VIOLATIONS == []
    finally:
        await http.close()
        for context in contexts:
            await context.close()
        await server.close()

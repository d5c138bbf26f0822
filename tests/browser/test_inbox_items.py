"""Issue 20, the inbox items in a real browser at 1440 × 900: the reply deadline, citizens'
files, transfer targets, note mode, canned replies live, keyboard and friendly visitor labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from playwright.async_api import Browser, expect

from agent_web.keys import KB_SEARCH, ROUTER
from channels.webchat.keys import UPLOADS
from channels.webchat.records import Upload
from hub.app import create_app
from hub.demo import seed_canned
from hub.settings import Settings
from kb.articles import Article
from kb.indexes import KbIndexes
from kb.search import SearchHit, search_articles
from kb.vector_index import VectorIndex
from mongo.client import Database
from routing.customers import Identity, IdentityKind
from routing.messages import Attachment, InboundMessage
from tests.agent_web.conftest import EntityBot, routing_file, seed_staff
from tests.browser.conftest import SCREENSHOTS, serve
from tests.browser.test_inbox_agent import customer_says, sign_in

VIEWPORT = {"width": 1440, "height": 900}


async def test_the_reply_deadline_counts_down_and_the_agent_is_told_why_the_chat_left(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(
        tmp_path, escalation={"intents": ["ask_human"]}, general={"reply_timeout_s": 6}
    )
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        sent = await customer_says(http, base, "visitor-late", "转人工")
        cid = sent["conversation_id"]
        item = page.locator(f'[data-testid="conversation-item"][data-conversation-id="{cid}"]')
        await expect(item).to_be_visible()
        await expect(page.get_by_test_id("composer-input")).to_be_visible()
        # the customer writes and nobody answers: the clock shows on the chat and its card
        await customer_says(http, base, "visitor-late", "有人吗？")
        await expect(item.get_by_test_id("reply-countdown")).to_contain_text("秒后转走")
        await expect(item.get_by_test_id("waiting-time")).to_contain_text("客户已等")
        due = page.get_by_test_id("reply-due")
        await expect(due).to_be_visible()
        await expect(due).to_contain_text("超时未回复会话将自动转给其他坐席")
        await expect(due).to_have_class("reply-due urgent")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "inbox-reply-deadline.png"))
        # an answer stops the clock
        await page.get_by_test_id("composer-input").fill("您好，请讲")
        await page.get_by_test_id("composer-input").press("Enter")
        await expect(due).to_be_hidden()
        await expect(item.get_by_test_id("reply-countdown")).to_have_count(0)
        # the customer writes again and the agent stays silent: the chat leaves, with the reason
        await customer_says(http, base, "visitor-late", "还在吗？")
        await expect(due).to_be_visible()
        moved = page.get_by_test_id("moved-away")
        await expect(moved).to_be_visible(timeout=15_000)
        await expect(moved).to_contain_text("客户等待超时未获回复，会话已被收回")
        await expect(moved).to_have_attribute("data-reason", "no_reply")
        await expect(page.get_by_test_id("toast").last).to_contain_text("客户等待超时")
        assert errors == []
    finally:
        await http.close()
        await context.close()
        await server.close()


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def webchat_says(
    app: web.Application, visitor: str, text: str, upload: Upload | None = None
) -> str:
    """A web chat visitor's message, as the widget's socket hands it to the router."""

    attachments: tuple[Attachment, ...] = ()
    kind = "text"
    if upload is not None:
        kind = "image" if upload.mime.startswith("image/") else "file"
        attachments = (
            Attachment(kind, f"/webchat/files/{upload.id}", upload.mime, upload.size, upload.name),
        )
    result = await app[ROUTER].handle_inbound(
        InboundMessage(
            channel="webchat",
            account="site",
            provider_id=f"{visitor}:{text}",
            identity=Identity(IdentityKind.WEB, visitor),
            text=text,
            received_at=datetime.now(UTC),
            kind=kind,
            attachments=attachments,
        )
    )
    if upload is not None:
        await app[UPLOADS].sent_in(upload, result.conversation_id)
    return result.conversation_id


async def test_citizens_photos_show_inline_and_files_open(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):

    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        cid = await webchat_says(app, "visitor-photo", "转人工")
        await expect(page.get_by_test_id("composer-input")).to_be_visible()
        photo = await app[UPLOADS].save("visitor-photo", "photo.png", PNG, "image/png")
        await webchat_says(app, "visitor-photo", "[图片] photo.png", photo)
        doc = await app[UPLOADS].save("visitor-photo", "证明.pdf", b"%PDF-1.4\n", "application/pdf")
        await webchat_says(app, "visitor-photo", "[文件] 证明.pdf", doc)
        transcript = page.get_by_test_id("transcript")
        image = transcript.get_by_test_id("message-image")
        await expect(image).to_have_count(1)
        await expect(image).to_have_attribute("src", f"/webchat/files/{photo.id}")
        # the image really loads (the agent may download it: the chat is theirs)
        loaded = await image.evaluate(
            "img => img.complete ? img.naturalWidth : new Promise(r => img.onload = () => r(img.naturalWidth))"
        )
        assert loaded == 1
        file_link = transcript.locator('a.attachment.file[data-testid="message-attachment"]')
        await expect(file_link).to_contain_text("证明.pdf")
        await expect(file_link).to_have_attribute("href", f"/webchat/files/{doc.id}")
        async with page.expect_download() as got:
            await file_link.click()
        assert (await got.value).suggested_filename == "证明.pdf"
        # after a reload, from the stored transcript
        await page.reload()
        await page.locator(
            f'[data-testid="conversation-item"][data-conversation-id="{cid}"]'
        ).click()
        await expect(page.get_by_test_id("message-image")).to_have_count(1)
        await page.screenshot(path=str(SCREENSHOTS / "inbox-attachments.png"))
        assert errors == []
    finally:
        await context.close()
        await server.close()


async def test_transfer_lists_only_agents_who_can_take_it_and_note_mode_resets(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    other = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await customer_says(http, base, "visitor-tr", "转人工")
        await expect(page.get_by_test_id("composer-input")).to_be_visible()

        # note mode: looks different, and the next message is a reply again
        composer = page.get_by_test_id("composer")
        await page.get_by_test_id("composer-note").check()
        await expect(composer).to_have_attribute("data-mode", "note")
        await expect(composer).to_have_class("composer note-mode")
        await expect(page.get_by_test_id("composer-input")).to_have_attribute(
            "placeholder", "内部备注：仅坐席和班长可见，客户看不到；Enter 保存备注"
        )
        await expect(page.get_by_test_id("composer-send")).to_have_text("保存备注")
        await page.screenshot(path=str(SCREENSHOTS / "inbox-note-mode.png"))
        await page.get_by_test_id("composer-input").fill("客户情绪激动，注意安抚")
        await page.get_by_test_id("composer-input").press("Enter")
        note = page.get_by_test_id("transcript").locator('[data-internal="true"]')
        await expect(note).to_contain_text("客户情绪激动")
        await expect(page.get_by_test_id("composer-note")).not_to_be_checked()
        await expect(composer).to_have_attribute("data-mode", "reply")
        await expect(page.get_by_test_id("composer-send")).to_have_text("发送")

        # nobody else is ready: no agent offered (not the offline admin), queues with counts
        await page.get_by_test_id("btn-transfer").click()
        await expect(page.get_by_test_id("transfer-no-agent")).to_be_visible()
        await expect(page.get_by_test_id("transfer-agent-option")).to_have_count(0)
        await expect(page.get_by_test_id("transfer-kind-queue")).to_be_checked()
        await expect(page.get_by_test_id("transfer-queue-option").first).to_contain_text("排队")
        await page.keyboard.press("Escape")

        # agent2 signs in and goes ready: offered, with presence and load
        second = await other.new_page()
        await sign_in(second, base, "agent2")
        await second.get_by_test_id("presence-ready").click()
        await expect(second.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await page.get_by_test_id("btn-transfer").click()
        option = page.get_by_test_id("transfer-agent-option")
        await expect(option).to_have_count(1)
        await expect(option).to_have_text("话务员张伟（就绪，负载 0/4）")
        await expect(page.get_by_test_id("transfer-kind-agent")).to_be_checked()
        await page.screenshot(path=str(SCREENSHOTS / "inbox-transfer.png"))
        # agent2 goes busy meanwhile: the refusal is in Chinese
        await second.get_by_test_id("presence-busy").click()
        await expect(second.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "busy"
        )
        await page.get_by_test_id("transfer-confirm").click()
        toast = page.get_by_test_id("toast").last
        await expect(toast).to_contain_text("话务员张伟当前未就绪或已满负荷，无法接收转接")
        assert "cannot" not in (await toast.text_content() or "")
        assert errors == []
    finally:
        await http.close()
        await context.close()
        await other.close()
        await server.close()


async def test_seeded_canned_replies_and_new_ones_without_a_reload(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    assert await seed_canned(db) == 12
    assert await seed_canned(db) == 0  # idempotent
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await customer_says(http, base, "visitor-canned", "转人工")
        composer = page.get_by_test_id("composer-input")
        await expect(composer).to_be_visible()
        await composer.fill("/")
        await expect(page.get_by_test_id("canned-suggestion")).to_have_count(8)
        await composer.fill("/nh")
        await expect(page.get_by_test_id("canned-suggestion")).to_have_count(1)
        await composer.press("Enter")
        await expect(composer).to_have_value(
            "您好，这里是12345政务服务便民热线，很高兴为您服务，请问有什么可以帮您？"
        )
        await composer.fill("")
        # a new reply made in another tab is there on the next focus, no reload
        tab = await context.new_page()
        await tab.goto(base + "/canned")
        await tab.get_by_test_id("canned-shortcut").fill("wx")
        await tab.get_by_test_id("canned-title").fill("停水说明")
        await tab.get_by_test_id("canned-text").fill(
            "您所在片区因管网维修临时停水，预计今晚8点前恢复。"
        )
        await tab.get_by_test_id("canned-save").click()
        await expect(tab.get_by_test_id("canned-row").filter(has_text="停水说明")).to_have_count(1)
        await tab.close()
        await page.bring_to_front()
        await page.get_by_test_id("transcript").click()
        await page.wait_for_timeout(1100)
        await composer.click()
        await composer.fill("/wx")
        await expect(page.get_by_test_id("canned-suggestion")).to_have_count(1)
        await expect(page.get_by_test_id("canned-suggestion")).to_contain_text("停水说明")
    finally:
        await http.close()
        await context.close()
        await server.close()


class RealKb:
    """The inbox search over a few real articles (kb.search, no embedder needed)."""

    def __init__(self) -> None:
        articles = [
            Article(
                "kb-1",
                ("社保",),
                "社保卡丢了怎么补办？",
                ("社保卡挂失",),
                "携带身份证到社保经办网点补办。",
                ("社保卡",),
            ),
            Article(
                "kb-2",
                ("公积金",),
                "住房公积金怎么提取？",
                (),
                "购房、租房可提取公积金。",
                ("公积金",),
            ),
            Article("kb-3", ("医保",), "新生儿医保怎么办理？", (), "出生后90天内办理。", ("医保",)),
        ]
        self.indexes = KbIndexes(VectorIndex(8))
        self.indexes.build(articles, self.indexes.vectors)

    def search(self, text: str, limit: int = 10) -> list[SearchHit]:
        return search_articles(self.indexes, text, limit)


async def test_kb_search_finds_typed_pinyin_and_initials(
    browser: Browser, settings: Settings, db: Database
):
    kb = RealKb()
    assert [h.article_id for h in kb.search("shebaoka")][:1] == ["kb-1"]
    assert [h.article_id for h in kb.search("sbk")][:1] == ["kb-1"]
    assert [h.article_id for h in kb.search("gjj")][:1] == ["kb-2"]
    assert kb.search("社保卡")[0].article_id == "kb-1"  # Chinese as before
    await seed_staff(db)
    app = create_app(settings, bot=EntityBot())
    app[KB_SEARCH] = kb
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("tab-kb").click()
        for typed in ("shebaoka", "sbk"):
            await page.get_by_test_id("kb-query").fill(typed)
            await page.get_by_test_id("kb-search").click()
            hit = page.get_by_test_id("kb-hit").first
            await expect(hit).to_contain_text("社保卡丢了怎么补办")
            await expect(hit.locator("mark").first).to_have_text("社保卡")
        await page.screenshot(path=str(SCREENSHOTS / "inbox-kb-pinyin.png"))
    finally:
        await context.close()
        await server.close()


async def test_a_bad_phone_is_refused_in_chinese_and_takes_no_case_number(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        await customer_says(http, base, "visitor-case", "报修 厨房下水道堵了，电话13812345678")
        await customer_says(http, base, "visitor-case", "转人工")
        await expect(page.get_by_test_id("composer-input")).to_be_visible()
        await page.get_by_test_id("btn-case").click()
        await expect(page.get_by_test_id("case-phone")).to_have_value("13812345678")
        await page.get_by_test_id("case-title").fill("厨房下水道堵塞")
        await page.get_by_test_id("case-cat-1").select_option("01")
        await page.get_by_test_id("case-cat-2").select_option("0101")
        result = page.get_by_test_id("case-result")
        # caught in the page
        await page.get_by_test_id("case-phone").fill("电话abc")
        await page.get_by_test_id("case-submit").click()
        await expect(result).to_have_text("联系电话格式不正确，请填写11位手机号或带区号的固定电话")
        # caught by the server: Chinese too, and no number is taken
        await page.get_by_test_id("case-phone").fill("23456789012")
        await page.get_by_test_id("case-submit").click()
        await expect(result).to_contain_text("联系电话格式不正确")
        await expect(result).to_have_attribute("data-state", "error")
        assert "phone" not in (await result.text_content() or "")
        await page.get_by_test_id("case-phone").fill("13812345678")
        await page.get_by_test_id("case-submit").click()
        create = page.get_by_test_id("case-create-anyway")
        if await create.count():
            await create.click()
        await expect(result).to_contain_text("已创建")
        number = await result.get_attribute("data-number")
        assert number is not None
        assert number.endswith("-000001"), number
    finally:
        await http.close()
        await context.close()
        await server.close()


async def test_the_agent_is_told_when_a_supervisor_takes_over(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    agent_ctx = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    super_ctx = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    http = aiohttp.ClientSession()
    try:
        page = await agent_ctx.new_page()
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        sent = await customer_says(http, base, "visitor-takeover", "转人工")
        cid = sent["conversation_id"]
        await expect(page.get_by_test_id("composer-input")).to_be_visible()

        boss = await super_ctx.new_page()
        boss.on("dialog", lambda d: d.accept())
        await sign_in(boss, base, "super")
        await boss.goto(base + "/supervisor")
        await expect(boss.get_by_test_id("ws-state")).to_have_attribute("data-connected", "true")
        row = boss.locator(f'[data-testid="active-conversation"][data-conversation-id="{cid}"]')
        await row.get_by_test_id("monitor-open").click()
        await boss.get_by_test_id("take-over").click()
        await expect(row.get_by_test_id("active-agent")).to_have_text("值班长王敏")

        moved = page.get_by_test_id("moved-away")
        await expect(moved).to_be_visible()
        await expect(moved).to_contain_text("值班长已强插接管该会话，您已退出服务")
        await expect(moved).to_have_attribute("data-reason", "taken_over")
        await page.screenshot(path=str(SCREENSHOTS / "inbox-taken-over.png"))
    finally:
        await http.close()
        await agent_ctx.close()
        await super_ctx.close()
        await server.close()


async def test_visitors_have_friendly_labels_and_the_list_works_by_keyboard(
    browser: Browser, settings: Settings, db: Database, tmp_path: Path
):
    await seed_staff(db)
    path = routing_file(tmp_path, escalation={"intents": ["ask_human"]})
    app = create_app(settings.model_copy(update={"hub_routing_config": path}), bot=EntityBot())
    server = await serve(app)
    base = str(server.make_url("")).rstrip("/")
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = await context.new_page()
    http = aiohttp.ClientSession()
    try:
        await sign_in(page, base, "agent1")
        await page.get_by_test_id("presence-ready").click()
        await expect(page.get_by_test_id("presence-status")).to_have_attribute(
            "data-status", "ready"
        )
        first = (await customer_says(http, base, "visitor-k1", "转人工"))["conversation_id"]
        second = (await customer_says(http, base, "visitor-k2", "转人工"))["conversation_id"]
        items = page.get_by_test_id("conversation-item")
        await expect(items).to_have_count(2)
        names = await items.locator("strong").all_text_contents()
        assert all(n.startswith("API访客 ") for n in names), names
        assert names[0] != names[1]
        colours = await items.get_by_test_id("visitor-dot").evaluate_all(
            "dots => dots.map(d => getComputedStyle(d).backgroundColor)"
        )
        assert all(c != "rgba(0, 0, 0, 0)" for c in colours), colours
        # keyboard: focus the first row, arrow down, Enter opens it
        await items.first.focus()
        await page.keyboard.press("ArrowDown")
        focused = await page.evaluate("document.activeElement.dataset.conversationId")
        assert focused == await items.nth(1).get_attribute("data-conversation-id")
        await page.keyboard.press("Enter")
        await expect(items.nth(1)).to_have_class("card conversation-item selected")
        assert {first, second} == {
            await items.nth(0).get_attribute("data-conversation-id"),
            focused,
        }
    finally:
        await http.close()
        await context.close()
        await server.close()

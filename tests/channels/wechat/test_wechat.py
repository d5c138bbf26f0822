"""The WeChat channel against the emulator: signed callbacks in every mode, the 5-second
rule, retries, the customer-service API with its 48-hour window and token expiry."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from wechatpy import parse_message

from agent_web.keys import CUSTOMERS, OUTBOX
from channels.wechat import API, CALLBACK
from channels.wechat.api import split_text
from channels.wechat.menu import push_menu
from hub.app import create_app
from hub.settings import DATA_DIR, Settings
from mongo.client import Database
from tests.channels.helpers import complete_case, eventually
from tests.channels.wechat.conftest import PATH, Rig
from tests.emulators.wechat import (
    APP_ID,
    APP_SECRET,
    TOKEN,
    WeChatEmulator,
    event_xml,
    text_xml,
    voice_xml,
)
from tests.fakes.bot import FakeBot


async def test_url_verification_echoes_only_with_a_valid_signature(rig: Rig):
    good = {**WeChatEmulator.signed_params(), "echostr": "e1"}
    async with rig.http.get(rig.url, params=good) as resp:
        assert resp.status == 200
        assert await resp.text() == "e1"
    async with rig.http.get(rig.url, params={**good, "signature": "0" * 40}) as resp:
        assert resp.status == 403


async def test_a_question_gets_a_passive_reply_in_plaintext_mode(rig: Rig):
    resp = await rig.send(text_xml("o-user-1", "宝宝医保怎么办", 1001))
    assert resp.status == 200
    assert "90天内" in await rig.passive_text(resp)


@pytest.mark.parametrize("mode", ["compat", "aes"])
async def test_a_question_gets_an_encrypted_passive_reply_in_safe_and_compatible_mode(
    safe_rig: Rig, mode: str
):
    resp = await safe_rig.send(text_xml("o-user-1", "宝宝医保怎么办", 1001), mode)
    assert resp.status == 200
    assert "90天内" in await safe_rig.passive_text(resp, mode)


async def test_a_forged_callback_is_refused_and_stores_nothing(rig: Rig, db: Database):
    resp = await rig.send(text_xml("o-user-2", "你好", 1002), token="wrong-token")
    assert resp.status == 403
    assert await db["messages"].count_documents({"channel": "wechat"}) == 0


async def test_unsafe_xml_is_refused(rig: Rig):
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><Content>&lol2;</Content></xml>'
    )
    resp = await rig.send(laughs)
    assert resp.status == 400
    assert (await rig.send("<xml><broken>")).status == 400


async def test_retries_are_stored_and_answered_once(rig: Rig, db: Database):
    xml = text_xml("o-user-3", "转人工", 1003)
    first, second = await asyncio.gather(rig.send(xml), rig.send(xml))
    third = await rig.send(xml)
    texts = {await rig.passive_text(r) for r in (first, second, third)}
    assert len(texts) == 1
    assert await db["messages"].count_documents({"channel": "wechat", "direction": "in"}) == 1
    assert await db["conversations"].count_documents({}) == 1
    assert rig.bot.calls.count("转人工") == 1


async def test_a_slow_answer_goes_out_through_the_customer_service_api(rig: Rig, db: Database):
    callback = rig.app[CALLBACK]
    callback.config = replace(callback.config, reply_deadline_s=0.3)
    rig.bot.delay_s = 1.0
    rig.wx.user_wrote("o-user-4")
    xml = text_xml("o-user-4", "停水了怎么办", 1004)
    resp = await rig.send(xml)
    assert await resp.text() == "success"
    retry = await rig.send(xml)  # WeChat's retry after a late answer: nothing twice
    assert await retry.text() == "success"

    async def sent_by_the_api() -> list[str]:
        await rig.app[OUTBOX].drain()
        return rig.wx.texts_to("o-user-4")

    await eventually(sent_by_the_api)
    assert any("停水" in t for t in rig.wx.texts_to("o-user-4"))
    assert len(rig.wx.texts_to("o-user-4")) == 1
    reply = await db["messages"].find_one({"channel": "wechat", "direction": "out"})
    assert reply["delivery"] == "sent"


async def test_voice_uses_the_recognised_text(rig: Rig):
    resp = await rig.send(voice_xml("o-user-5", "停水了怎么办", 1005))
    assert "停水" in await rig.passive_text(resp)
    assert rig.bot.calls[-1] == "停水了怎么办"


async def test_subscribe_is_welcomed_and_a_menu_click_is_a_message(rig: Rig):
    welcome = await rig.send(event_xml("o-user-6", "subscribe"))
    assert "欢迎关注12345" in await rig.passive_text(welcome)
    click = await rig.send(event_xml("o-user-6", "CLICK", "ASK_HUMAN", created=1_700_000_000))
    assert await click.text() != "success"
    assert "<CreateTime>1700000000</CreateTime>" in await click.text()  # stable for retries
    assert rig.bot.calls[-1] == "转人工"
    again = await rig.send(event_xml("o-user-6", "CLICK", "ASK_HUMAN", created=1_700_000_000))
    assert await again.text() == await click.text()
    assert rig.bot.calls.count("转人工") == 1
    bye = await rig.send(event_xml("o-user-6", "unsubscribe"))
    assert await bye.text() == "success"


async def test_a_failed_send_is_retried_then_marked_failed(rig: Rig, db: Database):
    rig.wx.user_wrote("o-user-8")
    rig.wx.fail_next = [-1, -1, -1]  # system busy, three times: every attempt fails
    stored = await rig.agent_writes("o-user-8", "第一条")
    assert stored["delivery"] == "failed"
    assert rig.wx.fail_next == []


async def test_an_expired_token_is_refreshed_once_for_concurrent_sends(rig: Rig):
    api = rig.app[API]
    for n in range(3):
        rig.wx.user_wrote(f"o-user-9{n}")
    await api.send_text("o-user-90", "预热")
    rig.wx.revoke_tokens()
    before = rig.wx.token_requests
    await asyncio.gather(*(api.send_text(f"o-user-9{n}", f"消息{n}") for n in range(3)))
    assert rig.wx.token_requests == before + 1
    assert len(rig.wx.sent) == 4


async def test_long_text_is_split_by_bytes():
    parts = list(split_text("一" * 1500))  # 4500 bytes
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts) == "一" * 1500
    assert len(parts) == 3


async def test_menu_push_reaches_the_platform(rig: Rig, settings: Settings, tmp_path: Path):
    configured = settings.model_copy(
        update={
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SecretStr(APP_SECRET),
            "wechat_api_base": rig.wx.api_base,
        }
    )
    await push_menu(configured, DATA_DIR / "wechat_menu.json")
    assert rig.wx.menus[0]["button"][0]["name"]
    bad = tmp_path / "menu.json"
    bad.write_text('{"button": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="1 to 3"):
        await push_menu(configured, bad)


async def test_case_events_reach_the_citizen_as_template_messages(rig: Rig):
    from datetime import UTC, datetime

    from cases.model import Case, CaseState, CaseType
    from channels.wechat.templates import TemplateIds, send_case_event

    now = datetime.now(UTC)
    case = Case(
        "20261125-000001",
        CaseType.REPAIR,
        CaseState.DISPATCHED,
        "楼道路灯不亮",
        "",
        ("01",),
        None,
        None,
        "wechat",
        None,
        "",
        "water",
        0,
        now,
        now,
        1,
    )
    await send_case_event(rig.app[API], TemplateIds("tpl-case"), "o-user-10", case, "dispatched")
    [sent] = rig.wx.templates
    assert sent["template_id"] == "tpl-case"
    assert sent["data"]["keyword1"]["value"] == "20261125-000001"
    assert sent["data"]["first"]["value"] == "您的诉求已转交承办单位办理"


async def test_case_progress_is_pushed_to_the_follower_as_template_messages(
    aiohttp_client: Any, settings: Settings, db: Database
):
    from agent_web.keys import CASE_DESK
    from cases.model import CaseType, NewCase
    from cases.workflow import CaseAction, CaseCommand
    from routing.customers import Identity, IdentityKind

    async with WeChatEmulator() as wx:
        client = await aiohttp_client(create_app(_with_templates(settings, wx), bot=FakeBot()))
        app = client.app
        follower = await app[CUSTOMERS].get_or_create(
            Identity(IdentityKind.WECHAT, f"{APP_ID}:o-follower-1")
        )
        desk = app[CASE_DESK]
        case = await desk.open(
            NewCase(
                CaseType.REPAIR, "楼道路灯不亮", customer_id=follower.id, category=("01", "0101")
            ),
            "agent1",
        )
        assert wx.templates == []  # opening is internal; the citizen hears on acceptance
        await desk.act(case.number, CaseCommand(CaseAction.ACCEPT, "agent1"))
        await desk.act(case.number, CaseCommand(CaseAction.DISPATCH, "agent1", department="water"))
        firsts = [t["data"]["first"]["value"] for t in wx.templates]
        assert firsts == ["您的诉求已受理", "您的诉求已转交承办单位办理"]
        assert {t["touser"] for t in wx.templates} == {"o-follower-1"}
        assert {t["template_id"] for t in wx.templates} == {"tpl-case-update"}
        assert wx.templates[0]["data"]["keyword1"]["value"] == case.number


async def test_the_completion_notice_asks_for_a_rating_answered_in_the_chat(
    aiohttp_client: Any, settings: Settings, db: Database
):
    from agent_web.keys import CASE_DESK, CASES
    from cases.model import CaseState, CaseType, NewCase, Satisfaction
    from routing.customers import Identity, IdentityKind

    async with WeChatEmulator() as wx, aiohttp.ClientSession() as http:
        client = await aiohttp_client(create_app(_with_templates(settings, wx), bot=FakeBot()))
        app, url = client.app, str(client.make_url(PATH))
        follower = await app[CUSTOMERS].get_or_create(
            Identity(IdentityKind.WECHAT, f"{APP_ID}:o-rater-1")
        )

        async def completed_case(title: str) -> str:
            new = NewCase(CaseType.REPAIR, title, customer_id=follower.id, category=("01", "0101"))
            return await complete_case(app[CASE_DESK], new, "已修复")

        async def say(text: str, msg_id: int) -> str:
            resp = await wx.post(http, url, text_xml("o-rater-1", text, msg_id))
            return parse_message(await resp.text()).content

        number = await completed_case("楼道路灯不亮")
        done = wx.templates[-1]["data"]
        assert done["first"]["value"] == "您的诉求已办理完毕"
        assert "回复1满意" in done["remark"]["value"]

        assert "感谢您的评价" in await say("1", 9001)
        case = await app[CASES].get(number)
        assert case.state is CaseState.REVISITED
        assert case.satisfaction is Satisfaction.SATISFIED
        assert (case.events[-1].actor, case.events[-1].comment) == ("wechat", "微信回访：满意")
        assert "感谢您的评价" in await say("1", 9001)  # WeChat's retry: thanked, not re-applied
        assert len((await app[CASES].get(number)).events) == len(case.events)
        assert "感谢您的评价" not in await say("1", 9002)  # no survey open: an ordinary message

        # A survey is open, but the citizen chats first: a later "2" belongs to the chat.
        second = await completed_case("小区路面塌陷")
        assert "感谢" not in await say("新生儿医保怎么办", 9003)
        assert "感谢您的评价" not in await say("2", 9004)
        assert (await app[CASES].get(second)).state is CaseState.REPLIED


def _with_templates(settings: Settings, wx: WeChatEmulator) -> Settings:
    """The account on the emulator, with case-progress template messages on."""
    return settings.model_copy(
        update={
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SecretStr(APP_SECRET),
            "wechat_token": SecretStr(TOKEN),
            "wechat_api_base": wx.api_base,
            "wechat_template_case_update": "tpl-case-update",
        }
    )

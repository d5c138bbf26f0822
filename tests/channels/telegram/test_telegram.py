"""The Telegram channel against the Bot API emulator, through aiogram: polling with a stored
offset, webhook with its secret token, voice/location/contact, and sends that are split,
retried after 429 and marked failed when the user blocked the bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest_asyncio
from pydantic import SecretStr

from agent_web.keys import CONVERSATIONS, CUSTOMERS, OUTBOX
from channels.telegram import PATH
from channels.telegram.sender import BLOCKED, split_text
from channels.telegram.updates import PHONE_LINKED, PHONE_NOT_OWN
from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from routing.customers import Identity, IdentityKind
from tests.channels.helpers import agent_says, eventually
from tests.emulators.telegram_api import TOKEN, TelegramEmulator
from tests.fakes.bot import FakeBot

USER = 777001
SECRET = "tg-secret_123"


@dataclass
class Rig:
    tg: TelegramEmulator
    app: Any
    url: str
    db: Database

    async def inbound(self) -> list[dict[str, Any]]:
        cursor = self.db["messages"].find({"channel": "telegram", "direction": "in"})
        return [d async for d in cursor.sort("_id", 1)]

    async def replies_to(self, chat_id: int, n: int = 1) -> list[str]:
        async def enough() -> list[str]:
            texts = self.tg.texts_to(chat_id)
            return texts if len(texts) >= n else []

        return await eventually(enough)


def _settings(settings: Settings, tg: TelegramEmulator, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base": tg.base_url,
            "hub_outbox_backoff_s": (0.05, 0.05),
            **more,
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def webhook(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Rig]:
    async with TelegramEmulator() as tg:
        configured = _settings(
            settings,
            tg,
            telegram_webhook_secret=SecretStr(SECRET),
            hub_public_url="https://hotline.example.cn",
        )
        client = await aiohttp_client(create_app(configured, bot=FakeBot()))
        assert tg.webhook == {"url": "https://hotline.example.cn" + PATH, "secret_token": SECRET}
        tg.webhook["url"] = str(client.make_url(PATH))  # the public URL routes to us
        yield Rig(tg, client.app, tg.webhook["url"], db)


async def test_polling_answers_and_stores_the_offset_so_nothing_is_handled_twice(
    aiohttp_client: Any, settings: Settings, db: Database
):
    async with TelegramEmulator() as tg:
        first = await aiohttp_client(create_app(_settings(settings, tg), bot=FakeBot()))
        rig = Rig(tg, first.app, "", db)
        tg.push(tg.text_update(USER, "宝宝医保怎么办"))
        [answer] = await rig.replies_to(USER)
        assert "90天内" in answer
        [stored] = await rig.inbound()
        assert stored["text"] == "宝宝医保怎么办"

        async def offset_saved() -> Any:
            return await db["channel_state"].find_one({"offset": {"$gt": 0}})

        saved = await eventually(offset_saved)
        await first.close()  # the hub stops; an update arrives meanwhile
        tg.push(tg.text_update(USER, "停水什么时候恢复"))
        second = await aiohttp_client(create_app(_settings(settings, tg), bot=FakeBot()))
        await rig.replies_to(USER, 2)
        assert [m["text"] for m in await rig.inbound()] == ["宝宝医保怎么办", "停水什么时候恢复"]
        assert int(tg.get_updates_calls[-1]["offset"]) > saved["offset"]
        await second.close()


async def test_webhook_checks_the_secret_and_stores_a_retried_update_once(webhook: Rig):
    update = webhook.tg.text_update(USER, "你好")
    assert (await webhook.tg.post_webhook(update, None))[0] == 403
    assert (await webhook.tg.post_webhook(update, "wrong"))[0] == 403
    assert await webhook.inbound() == []
    for _ in range(2):  # Telegram retries when it missed our 200
        status, _body = await webhook.tg.post_webhook(update, SECRET)
        assert status == 200
    assert len(await webhook.inbound()) == 1
    async with aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(webhook.url, data="{not json", headers=headers) as resp:
            assert resp.status == 400
            assert "error" in await resp.json()
        body = json.dumps({"update_id": "x"})
        async with http.post(webhook.url, data=body, headers=headers) as resp:
            assert resp.status == 400


async def test_voice_and_location_are_stored_with_their_attachments(webhook: Rig):
    webhook.tg.add_file("voice-1", b"OggS\x00\x02fake-opus", "voice/file_1.oga")
    assert (await webhook.tg.post_webhook(webhook.tg.voice_update(USER, "voice-1"), SECRET))[
        0
    ] == 200
    update = webhook.tg.location_update(USER, 28.682892, 115.858198)
    assert (await webhook.tg.post_webhook(update, SECRET))[0] == 200
    voice, location = await webhook.inbound()
    assert voice["kind"] == "voice"
    assert voice["text"] == "[语音消息 3秒]"
    url = voice["attachments"][0]["url"]
    assert url.startswith("/webchat/files/")
    upload = await webhook.db["uploads"].find_one({"_id": url.rsplit("/", 1)[1]})
    assert upload["mime"] == "audio/ogg"
    # recorded on its conversation: the agents serving it may open it
    assert voice["conversation_id"] in upload["conversations"]
    assert location["kind"] == "location"
    assert "28.682892" in location["text"]


async def test_a_shared_contact_links_telegram_to_the_phone_customer(webhook: Rig):
    customers = webhook.app[CUSTOMERS]
    by_phone = await customers.get_or_create(Identity(IdentityKind.PHONE, "+8613812345678"))
    await webhook.tg.post_webhook(webhook.tg.text_update(USER, "你好"), SECRET)
    someone_else = webhook.tg.contact_update(USER, "+8613900000000", own=False)
    assert (await webhook.tg.post_webhook(someone_else, SECRET))[0] == 200
    own = webhook.tg.contact_update(USER, "+86 138 1234 5678")
    assert (await webhook.tg.post_webhook(own, SECRET))[0] == 200
    assert webhook.tg.texts_to(USER)[-2:] == [PHONE_NOT_OWN, PHONE_LINKED]
    merged = await customers.find_by_identity(Identity(IdentityKind.TELEGRAM, str(USER)))
    assert merged.id == by_phone.id
    assert await customers.find_by_identity(Identity(IdentityKind.PHONE, "+8613900000000")) is None
    # the next message lands in the phone customer's history
    await webhook.tg.post_webhook(webhook.tg.text_update(USER, "停水什么时候恢复"), SECRET)
    last = (await webhook.inbound())[-1]
    assert last["customer_id"] == by_phone.id


async def _agent_says(rig: Rig, text: str) -> str:
    [first] = await rig.inbound()
    conv = await rig.app[CONVERSATIONS].get(first["conversation_id"])
    return await agent_says(rig.app[OUTBOX], conv, text)


async def _delivery(rig: Rig, message_id: str) -> dict[str, Any]:
    return await rig.db["messages"].find_one({"_id": message_id})


async def test_sends_are_split_retried_after_429_and_failed_when_blocked(webhook: Rig):
    await webhook.tg.post_webhook(webhook.tg.text_update(USER, "你好"), SECRET)
    await webhook.app[OUTBOX].drain()
    before = len(webhook.tg.texts_to(USER))

    long_text = "办理进度说明。" * 800  # 5600 characters: two Telegram messages
    assert [len(p) for p in split_text(long_text)] == [4096, 1504]
    webhook.tg.fail_next(429, "Too Many Requests: retry after 1", retry_after=1)
    sent = await _agent_says(webhook, long_text)
    assert (await _delivery(webhook, sent))["delivery"] == "sent"
    assert "".join(webhook.tg.texts_to(USER)[before:]) == long_text

    webhook.tg.fail_next(500, "Internal Server Error", times=3)  # 1 + len(backoff) tries
    attempts = webhook.tg.send_attempts
    down = await _agent_says(webhook, "请问还需要什么帮助？")
    doc = await _delivery(webhook, down)
    assert doc["delivery"] == "failed"
    assert "不可达" in doc["error"]
    assert webhook.tg.send_attempts - attempts == 3

    webhook.tg.fail_next(403, "Forbidden: bot was blocked by the user", times=5)
    blocked = await _agent_says(webhook, "您好，请问还在吗？")
    doc = await _delivery(webhook, blocked)
    assert doc["delivery"] == "failed"
    assert doc["error"] == BLOCKED
